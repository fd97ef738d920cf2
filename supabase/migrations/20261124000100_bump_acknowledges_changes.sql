-- Changed items never block a ticket: bump_ticket also acknowledges every change (an item added or voided
-- after the order reached the kitchen) on the station's ticket, as api_client/order_machine.py _bump_ticket
-- does. Before, a bumped ticket whose added or voided item was still flagged stayed on the station's rail with
-- nothing left to bump. tests/intent_cases.py runs the same scenarios here and on the companion.
--
-- Replaces kds.order_intent of 20261121000100_apply_intents.sql; only its bump_ticket branch differs.

create or replace function kds.order_intent(o public.orders, p jsonb, p_role text) returns text
language plpgsql set search_path = '' as $$
declare
    v_kind constant text := p ->> 'kind';
    v_item_id constant uuid := (p ->> 'item_id')::uuid;
    v_station constant text := p ->> 'station';
    v_args constant jsonb := coalesce(p -> 'args', '{}'::jsonb);
    label constant text := 'Order ' || o.number;
    at_where constant text := coalesce(' at ' || nullif(p ->> 'station', ''), '');
    course_raw jsonb := v_args -> 'course';
    v_course int;
    item record;
    n int;
    new_status text := o.status;
    priority_raw jsonb;
    waiting text;
begin
    if v_kind = 'eighty_six' then
        return v_kind || ' does not act on an order';
    end if;
    if p_role not in ('kds', 'expo', 'admin') then
        return format('a %s device cannot change tickets', p_role);
    end if;
    if o.status = 'cancelled' and v_kind <> 'ack_change' then
        return label || ' was cancelled';
    end if;
    if o.status = 'served' and v_kind <> 'recall' then
        return label || ' was already served';
    end if;
    if coalesce(jsonb_typeof(course_raw), 'null') <> 'null' then
        -- Never read a malformed course as "no course": that would hold or fire every course.
        if jsonb_typeof(course_raw) = 'number' and (course_raw #>> '{}') ~ '^[1-9]$' then
            v_course := (course_raw #>> '{}')::int;
        else
            return 'args.course must be a course number from 1 to 9, not ' || kds.shown(course_raw);
        end if;
    end if;

    if v_kind in ('bump_item', 'unbump_item') then
        if v_item_id is null then
            return v_kind || ' needs an item';
        end if;
        select * into item from public.order_items i where i.order_id = o.id and i.id = v_item_id;
        if not found then
            return 'That item is no longer on order ' || o.number;
        end if;
        if v_kind = 'bump_item' then
            if item.status = 'voided' then
                return item.name || ' was voided';
            elsif item.status = 'done' then
                return item.name || ' is already done';
            elsif item.held then
                return item.name || ' is on hold: fire it first';
            end if;
            update public.order_items set status = 'done' where id = item.id;
        else
            if item.status <> 'done' then
                return item.name || ' is not done';
            end if;
            update public.order_items set status = 'cooking' where id = item.id;
        end if;
        new_status := kds.derived_status(o.status, o.id);

    elsif v_kind in ('start', 'hold', 'fire', 'ack_change') then
        -- One item, or a course, or a station's items (order_machine._targets).
        update public.order_items i set
            status = case when v_kind = 'start' then 'cooking' else i.status end,
            held = case v_kind when 'hold' then true when 'fire' then false else i.held end,
            changed_after_send = case when v_kind = 'ack_change' then false else i.changed_after_send end
        where i.order_id = o.id
          and (v_item_id is null or i.id = v_item_id)
          and (v_item_id is not null or v_station is null or i.station = v_station)
          and (v_course is null or i.course = v_course)
          and case v_kind
                when 'start' then i.status = 'new' and not i.held
                when 'hold' then i.status in ('new', 'cooking') and not i.held
                when 'fire' then i.held and i.status <> 'voided'
                else i.changed_after_send
              end;
        get diagnostics n = row_count;
        if n = 0 then
            return case v_kind
                when 'start' then 'Nothing new to start'
                when 'hold' then 'Nothing to hold'
                when 'fire' then 'Nothing on hold'
                else 'No changes to acknowledge'
            end || at_where || ' on order ' || o.number;
        end if;
        new_status := kds.derived_status(o.status, o.id);

    elsif v_kind = 'bump_ticket' then
        -- The station's open items are done, and every change on its ticket is acknowledged in the same
        -- write (one new version per row): the cook bumped the card with those changes on it.
        if not exists (
            select 1 from public.order_items i
            where i.order_id = o.id and (v_station is null or i.station = v_station)
              and i.status in ('new', 'cooking') and not i.held) then
            return 'Nothing left to bump' || at_where || ' on order ' || o.number;
        end if;
        update public.order_items i set
            status = case when i.status in ('new', 'cooking') and not i.held then 'done' else i.status end,
            changed_after_send = false
        where i.order_id = o.id and (v_station is null or i.station = v_station)
          and ((i.status in ('new', 'cooking') and not i.held) or i.changed_after_send);
        new_status := kds.derived_status(o.status, o.id);

    elsif v_kind = 'recall' then
        if o.status = 'served' then
            -- Back from the pass: ready again, and a station recall reopens its done items too.
            new_status := 'ready';
            if v_station is not null then
                update public.order_items i set status = 'cooking'
                where i.order_id = o.id and i.station = v_station and i.status = 'done';
                get diagnostics n = row_count;
                if n > 0 then
                    new_status := kds.derived_status('in_progress', o.id);
                end if;
            end if;
        else
            update public.order_items i set status = 'cooking'
            where i.order_id = o.id and (v_station is null or i.station = v_station) and i.status = 'done';
            get diagnostics n = row_count;
            if n = 0 then
                return 'Nothing to recall' || at_where || ' on order ' || o.number;
            end if;
            new_status := kds.derived_status(o.status, o.id);
        end if;

    elsif v_kind = 'serve' then
        if p_role not in ('expo', 'admin') then
            return 'Only expo can serve an order';
        end if;
        if o.status <> 'ready' then
            select string_agg(s, ', ' order by s collate "C") into waiting from (
                select distinct i.station as s from public.order_items i
                where i.order_id = o.id and i.status in ('new', 'cooking')) w;
            return label || ' is not ready' || coalesce(': waiting on ' || waiting, '');
        end if;
        new_status := 'served';

    elsif v_kind = 'rush' then
        priority_raw := case when v_args ? 'priority' then v_args -> 'priority' else '"rush"'::jsonb end;
        if jsonb_typeof(priority_raw) <> 'string' or (priority_raw #>> '{}') not in ('normal', 'rush') then
            return 'Unknown priority ' || kds.shown(priority_raw);
        end if;
        if o.priority = priority_raw #>> '{}' then
            return label || ' is already ' || case when o.priority = 'rush' then 'rushed' else 'at normal priority' end;
        end if;
        update public.orders set priority = priority_raw #>> '{}' where id = o.id;
        return null;

    else
        return v_kind || ' does not act on an order';
    end if;

    if new_status is distinct from o.status then
        update public.orders set status = new_status where id = o.id;
    end if;
    return null;
end $$;
