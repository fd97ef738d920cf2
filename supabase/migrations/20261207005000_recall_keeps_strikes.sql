-- Recall keeps the struck items struck (issue 16): a recall reopens only what the last bump finished, as
-- api_client/order_machine.py _recall (_last_finished) does. A cook who struck two of three items, bumped and
-- recalls gets the ticket back as it was before the bump: the struck items stay done, the bumped one cooks again.
--
-- The last bump's items are the station's done items with the latest done_at: a bump stamps every item it
-- finishes with one time. A strike and the bump after it may come in one apply_intents batch (one transaction, one
-- now()), so each intent of a transaction now stamps the items it finishes a microsecond after the one before
-- (kds.apply_one counts them in the transaction-local setting kds.intent_no; the first intent stamps now(), as
-- before). The companion stamps the same (kds_backend/intents.py _Batch._decide). Done items without a done_at
-- (rows from before the column) are reopened only when no item of the station has one.
--
-- Replaces kds.stamp_done_at and kds.apply_one of 20261122000500_prep_times_day_end.sql (the count) and
-- kds.order_intent of 20261207003000_transfer.sql (the recall branch; the rest unchanged). tests/intent_cases.py
-- runs the same scenarios here and on the companion. Re-applying this file is a no-op.

create or replace function kds.stamp_done_at() returns trigger
language plpgsql set search_path = '' as $$
begin
    if new.status <> 'done' then
        new.done_at := null;
    elsif tg_op = 'UPDATE' and old.status = 'done' then
        new.done_at := old.done_at;  -- still done: the bump's time, not the time of a later change
    else
        -- The n-th intent of an apply_intents transaction stamps n microseconds after its start: a recall tells
        -- a strike from the bump after it in the same batch. Any other writer stamps now().
        new.done_at := now()
            + coalesce(nullif(current_setting('kds.intent_no', true), '')::int, 0) * interval '1 microsecond';
    end if;
    return new;
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
        -- Only what the last bump finished reopens (order_machine._last_finished): the done items at the latest
        -- done_at; max() skips rows without one, which then match only when no item has one.
        if o.status = 'served' then
            -- Back from the pass: ready again, and a station recall reopens its last bump too.
            new_status := 'ready';
            if v_station is not null then
                update public.order_items i set status = 'cooking'
                where i.order_id = o.id and i.station = v_station and i.status = 'done'
                  and i.done_at is not distinct from (
                      select max(d.done_at) from public.order_items d
                      where d.order_id = o.id and d.station = v_station and d.status = 'done');
                get diagnostics n = row_count;
                if n > 0 then
                    new_status := kds.derived_status('in_progress', o.id);
                end if;
            end if;
        else
            update public.order_items i set status = 'cooking'
            where i.order_id = o.id and (v_station is null or i.station = v_station) and i.status = 'done'
              and i.done_at is not distinct from (
                  select max(d.done_at) from public.order_items d
                  where d.order_id = o.id and (v_station is null or d.station = v_station) and d.status = 'done');
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

-- One intent, exactly once (intents._apply_one), with one change: it counts the transaction's intents in
-- kds.intent_no (0 for the first) before deciding, for kds.stamp_done_at.
create or replace function kds.apply_one(p_restaurant_id text, p_role text, p jsonb) returns jsonb
language plpgsql set search_path = '' as $$
declare
    v_intent_id constant uuid := (p ->> 'id')::uuid;
    v_device_id constant text := p ->> 'device_id';
    v_device_seq constant bigint := (p ->> 'device_seq')::bigint;
    seen public.intent_ledger;
    v_last_seq bigint;
    v_result jsonb;
    v_reason text;
begin
    -- This transaction's n-th intent (from 0): kds.stamp_done_at stamps its done items n microseconds later.
    perform set_config('kds.intent_no',
        coalesce(nullif(current_setting('kds.intent_no', true), '')::int + 1, 0)::text, true);
    select * into seen from public.intent_ledger l where l.intent_id = v_intent_id;
    if found then
        if seen.restaurant_id <> p_restaurant_id then
            -- A UUID collision across kitchens is an attack or a bug; say nothing about the other kitchen.
            return kds.rejected(p, 'This intent id was already used; send the action again with a new id');
        end if;
        return kds.result(p, 'duplicate', seen.reason, seen.status,
            case when seen.order_id is not null then kds.order_json(p_restaurant_id, seen.order_id) end);
    end if;
    select c.last_seq into v_last_seq from public.device_cursors c
    where c.restaurant_id = p_restaurant_id and c.device_id = v_device_id;
    if v_last_seq is not null and v_device_seq <= v_last_seq then
        -- A new id with a used sequence number: never applied, and nothing to report as its outcome.
        return kds.result(p, 'duplicate',
            format('device sequence %s was already used (last applied %s)', v_device_seq, v_last_seq));
    end if;

    v_result := coalesce(kds.cleared_rejection(p_restaurant_id, p), kds.decide(p_restaurant_id, p_role, p));
    v_reason := v_result ->> 'reason';
    if length(v_reason) > 500 then
        v_reason := left(v_reason, 497) || '...';  -- the ledger keeps 500 characters; the answer keeps all
    end if;
    insert into public.intent_ledger (intent_id, restaurant_id, device_id, device_seq, kind, status, reason, order_id)
    values (v_intent_id, p_restaurant_id, v_device_id, v_device_seq, p ->> 'kind', v_result ->> 'status', v_reason,
            (p ->> 'order_id')::uuid);
    insert into public.device_cursors (restaurant_id, device_id, last_seq)
    values (p_restaurant_id, v_device_id, v_device_seq)
    on conflict on constraint device_cursors_pkey do update set last_seq = excluded.last_seq;
    return v_result;
end $$;
