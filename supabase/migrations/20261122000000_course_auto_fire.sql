-- Coursing: the next held course fires by itself when the kitchen bumps the last of the courses before it
-- (api_client/order_machine.py: course_due, _fire_due_course). Only a bump (bump_item, bump_ticket) that
-- makes the next course due fires it: a course the expo holds again after the previous course was done
-- stays held until fired by hand. tests/intent_cases.py runs the same scenarios here and on the companion.

-- The lowest course with a held item still to cook, or NULL (order_machine.next_held_course).
create or replace function kds.next_held_course(p_order_id uuid) returns int
language sql stable set search_path = '' as $$
    select min(i.course) from public.order_items i
    where i.order_id = p_order_id and i.held and i.status in ('new', 'cooking')
$$;

-- Whether the next held course may fire: every live item of the courses before it is done, and there is
-- at least one (order_machine.course_due).
create or replace function kds.course_due(p_order_id uuid) returns boolean
language plpgsql stable set search_path = '' as $$
declare
    v_course int := kds.next_held_course(p_order_id);
    v_before int;
    v_open int;
begin
    if v_course is null then
        return false;
    end if;
    select count(*), count(*) filter (where i.status <> 'done') into v_before, v_open
    from public.order_items i
    where i.order_id = p_order_id and i.course < v_course and i.status <> 'voided';
    return v_before > 0 and v_open = 0;
end $$;

-- One intent, not yet ledgered: decide and apply it (intents._decide), then auto-fire the next course.
-- Replaces the function of 20261121000100_apply_intents.sql; everything else there is unchanged.
create or replace function kds.decide(p_restaurant_id text, p_role text, p jsonb) returns jsonb
language plpgsql set search_path = '' as $$
declare
    o public.orders;
    reason text;
    was_due boolean;
    v_course int;
begin
    if p ->> 'kind' = 'eighty_six' then
        return kds.eighty_six(p_restaurant_id, p_role, p);
    end if;
    if p ->> 'order_id' is null then
        return kds.rejected(p, (p ->> 'kind') || ' needs an order');
    end if;
    -- Another restaurant's order is as absent as a made-up id: nothing about it leaks.
    select * into o from public.orders
    where id = (p ->> 'order_id')::uuid and restaurant_id = p_restaurant_id
    for update;
    if not found then
        return kds.rejected(p, 'That order is not in this kitchen');
    end if;
    was_due := kds.course_due(o.id);
    reason := kds.order_intent(o, p, p_role);
    if reason is not null then
        return kds.rejected(p, reason, kds.order_json(p_restaurant_id, o.id));
    end if;
    if p ->> 'kind' in ('bump_item', 'bump_ticket') and not was_due and kds.course_due(o.id) then
        -- Only the rows that change are written: one new version per fired item, none for the rest.
        v_course := kds.next_held_course(o.id);
        update public.order_items i set held = false
        where i.order_id = o.id and i.held and i.status <> 'voided' and i.course = v_course;
    end if;
    return kds.result(p, 'applied', "order" => kds.order_json(p_restaurant_id, o.id));
end $$;

-- Internal helpers, like the rest of schema kds: only apply_intents (security definer) calls them.
revoke all on function kds.next_held_course(uuid), kds.course_due(uuid) from public;
