-- Transfer (issue 19, item 2): move a ticket or one item to another station (the grill is swamped, the
-- flat-top is free), as api_client/order_machine.py _transfer does: intent kind 'transfer' with args.to, the
-- station to move to; item_id for one item, station for that station's open items, neither for the order's.
-- Done and voided items stay; moving back is the same intent the other way. tests/intent_cases.py runs the
-- same scenarios here and on the companion.
--
-- The station must be one the restaurant knows. The companion knows its routes, the default routes and its
-- devices' stations (GET /api/v1/stations). A Supabase project has no routing table (the POS names each line's
-- station) and its devices live in auth.users, so here a station is known once any of the restaurant's items has
-- been at it (kds.known_stations, noted as items arrive or move, so a station stays known after its last
-- ticket moved away and the move can be undone) or it has a backup printer (public.station_printers).
--
-- Replaces kds.intent_problem of 20261121000100_apply_intents.sql (the new kind) and kds.order_intent of
-- 20261124000100_bump_acknowledges_changes.sql (the transfer branch; the rest unchanged). Re-applying this file
-- is a no-op.

create schema if not exists kds;

create table if not exists kds.known_stations (
    restaurant_id varchar(64) not null,
    station varchar(40) not null,
    primary key (restaurant_id, station)
);
revoke all on kds.known_stations from public, anon, authenticated;
insert into kds.known_stations (restaurant_id, station)
    select distinct restaurant_id, station from public.order_items on conflict do nothing;

-- SECURITY DEFINER: the POS's insert notes the station in a table no client can read or write.
create or replace function kds.note_station() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    insert into kds.known_stations (restaurant_id, station) values (new.restaurant_id, new.station)
        on conflict do nothing;
    return null;
end $$;
revoke all on function kds.note_station() from public;

do $$
begin
    if not exists (select 1 from pg_trigger
                   where tgname = 'note_station' and tgrelid = 'public.order_items'::regclass) then
        create trigger note_station after insert or update of station on public.order_items
            for each row execute function kds.note_station();
    end if;
end $$;

create or replace function kds.station_known(p_restaurant_id text, p_station text) returns boolean
language sql stable set search_path = '' as $$
    select exists (select 1 from kds.known_stations k
                   where k.restaurant_id = p_restaurant_id and k.station = p_station)
        or exists (select 1 from public.station_printers s
                   where s.restaurant_id = p_restaurant_id and s.station = p_station)
$$;
revoke all on function kds.station_known(text, text) from public;

-- What is wrong with one intent's shape (ApplyIntentsRequest / Intent in api_client/models.py), or NULL.
create or replace function kds.intent_problem(p jsonb) returns text
language plpgsql immutable set search_path = '' as $$
declare
    uuid_re constant text := '^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$';
    extra text;
begin
    if jsonb_typeof(p) is distinct from 'object' then
        return 'an intent must be an object';
    end if;
    select k into extra from jsonb_object_keys(p) k
    where k not in ('id', 'device_id', 'device_seq', 'kind', 'order_id', 'item_id', 'station', 'args',
                    'created_at', 'schema_version')
    limit 1;
    if extra is not null then
        return format('unknown field %s', extra);
    end if;
    if jsonb_typeof(p -> 'id') is distinct from 'string' or (p ->> 'id') !~ uuid_re then
        return 'id must be a UUID';
    end if;
    if jsonb_typeof(p -> 'device_id') is distinct from 'string' or length(p ->> 'device_id') not between 1 and 80 then
        return 'device_id must be a text of 1 to 80 characters';
    end if;
    if jsonb_typeof(p -> 'device_seq') is distinct from 'number' or (p ->> 'device_seq') !~ '^[0-9]{1,19}$'
        or (p ->> 'device_seq')::numeric not between 1 and 9223372036854775807 then
        return 'device_seq must be an integer from 1';
    end if;
    if jsonb_typeof(p -> 'kind') is distinct from 'string' or (p ->> 'kind') not in (
        'start', 'bump_item', 'unbump_item', 'bump_ticket', 'recall', 'serve', 'rush', 'hold', 'fire',
        'ack_change', 'transfer', 'eighty_six') then
        return 'unknown intent kind';
    end if;
    if coalesce(jsonb_typeof(p -> 'order_id'), 'null') <> 'null'
        and (jsonb_typeof(p -> 'order_id') <> 'string' or (p ->> 'order_id') !~ uuid_re) then
        return 'order_id must be a UUID';
    end if;
    if coalesce(jsonb_typeof(p -> 'item_id'), 'null') <> 'null'
        and (jsonb_typeof(p -> 'item_id') <> 'string' or (p ->> 'item_id') !~ uuid_re) then
        return 'item_id must be a UUID';
    end if;
    if coalesce(jsonb_typeof(p -> 'station'), 'null') <> 'null'
        and (jsonb_typeof(p -> 'station') <> 'string' or (p ->> 'station') !~ '^[a-z0-9_-]{1,40}$') then
        return 'station must match ^[a-z0-9_-]+$ (at most 40 characters)';
    end if;
    if p ? 'args' and jsonb_typeof(p -> 'args') <> 'object' then
        return 'args must be an object';
    end if;
    if coalesce(jsonb_typeof(p -> 'created_at'), 'null') not in ('null', 'string') then
        return 'created_at must be a timestamp';
    end if;
    if p ? 'schema_version' and (p -> 'schema_version') <> '1'::jsonb then
        return 'schema_version must be 1';
    end if;
    return null;
end $$;

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
    to_raw jsonb;
    v_to text;
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

    elsif v_kind = 'transfer' then
        -- order_machine._transfer: one item, or a station's open items (the order's without a station), to
        -- args.to; status, hold and change flag go with them. The station must be one the kitchen knows.
        to_raw := v_args -> 'to';
        if coalesce(jsonb_typeof(to_raw), 'null') = 'null' then
            return 'transfer needs args.to, the station to move to';
        end if;
        if jsonb_typeof(to_raw) <> 'string' or (to_raw #>> '{}') !~ '^[a-z0-9_-]{1,40}$' then
            return 'args.to must be a station name (a-z, 0-9, _ and -), not ' || kds.shown(to_raw);
        end if;
        v_to := to_raw #>> '{}';
        if v_item_id is not null then
            select * into item from public.order_items i where i.order_id = o.id and i.id = v_item_id;
            if not found then
                return 'That item is no longer on order ' || o.number;
            elsif item.status = 'voided' then
                return item.name || ' was voided';
            elsif item.status = 'done' then
                return item.name || ' is already done';
            elsif item.station = v_to then
                return item.name || ' is already at ' || v_to;
            elsif not kds.station_known(o.restaurant_id, v_to) then
                return 'There is no station ' || v_to || ' in this kitchen';
            end if;
            update public.order_items set station = v_to where id = item.id;
        else
            if v_station = v_to then
                return label || ' is already at ' || v_to;
            end if;
            if not exists (
                select 1 from public.order_items i
                where i.order_id = o.id and (v_station is null or i.station = v_station)
                  and (v_course is null or i.course = v_course)
                  and i.status in ('new', 'cooking') and i.station <> v_to) then
                return 'Nothing to transfer' || at_where || ' on order ' || o.number;
            end if;
            if not kds.station_known(o.restaurant_id, v_to) then
                return 'There is no station ' || v_to || ' in this kitchen';
            end if;
            update public.order_items i set station = v_to
            where i.order_id = o.id and (v_station is null or i.station = v_station)
              and (v_course is null or i.course = v_course)
              and i.status in ('new', 'cooking') and i.station <> v_to;
        end if;
        new_status := kds.derived_status(o.status, o.id);

    else
        return v_kind || ' does not act on an order';
    end if;

    if new_status is distinct from o.status then
        update public.orders set status = new_status where id = o.id;
    end if;
    return null;
end $$;
