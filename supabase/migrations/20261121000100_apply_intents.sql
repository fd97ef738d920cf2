-- `POST /rest/v1/rpc/apply_intents` with body {"intents": [...]}: the one write path of the kitchen
-- screens, exactly once, under the order state machine.
--
-- The same semantics as the companion (kds_backend/intents.py + api_client/order_machine.py), down to
-- the reason texts; tests/supabase runs every scenario of tests/intent_cases.py against this function.
-- One call is one transaction: per intent, in order, an id already ledgered, or a device_seq at or
-- below the device's cursor, is a duplicate and changes nothing; otherwise the state machine decides,
-- and the effect, the ledger row and the cursor are written together.

-- A client's value quoted in a reason, like Python's repr() and kept short (order_machine._shown).
create or replace function kds.shown(p_value jsonb) returns text
language plpgsql immutable set search_path = '' as $$
declare
    t text;
    s text;
begin
    case jsonb_typeof(p_value)
        when 'string' then
            s := p_value #>> '{}';
            if position('''' in s) > 0 and position('"' in s) = 0 then
                t := '"' || replace(s, '\', '\\') || '"';
            else
                t := '''' || replace(replace(s, '\', '\\'), '''', '\''') || '''';
            end if;
        when 'boolean' then t := case when p_value::boolean then 'True' else 'False' end;
        when 'null' then t := 'None';
        else t := p_value::text;
    end case;
    return case when length(t) <= 40 then t else left(t, 37) || '...' end;
end $$;

-- An order with its items embedded, as `select=*,order_items(*)` returns it.
create or replace function kds.order_json(p_restaurant_id text, p_order_id uuid) returns jsonb
language sql stable set search_path = '' as $$
    select to_jsonb(o) || jsonb_build_object('order_items', coalesce(
        (select jsonb_agg(to_jsonb(i) order by i.created_at, i.change_seq)
         from public.order_items i where i.order_id = o.id), '[]'::jsonb))
    from public.orders o
    where o.id = p_order_id and o.restaurant_id = p_restaurant_id
$$;

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
        'ack_change', 'eighty_six') then
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

-- The order state machine (api_client/order_machine.py apply_intent): either the reason the intent is
-- rejected (nothing written), or NULL after writing its effect. Only rows that change are written,
-- so each changed row gets exactly one new version per intent. The caller holds the order row lock.
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
        update public.order_items i set status = 'done'
        where i.order_id = o.id and (v_station is null or i.station = v_station)
          and i.status in ('new', 'cooking') and not i.held;
        get diagnostics n = row_count;
        if n = 0 then
            return 'Nothing left to bump' || at_where || ' on order ' || o.number;
        end if;
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

-- 86 an item (`available: false`, the default) or bring it back (`available: true`) (intents._eighty_six).
-- Returns the result object.
create or replace function kds.eighty_six(p_restaurant_id text, p_role text, p jsonb) returns jsonb
language plpgsql set search_path = '' as $$
declare
    v_args constant jsonb := coalesce(p -> 'args', '{}'::jsonb);
    raw_name text := v_args ->> 'item_name';
    v_name text;
    available_raw jsonb := coalesce(v_args -> 'available', 'false'::jsonb);
    v_available boolean;
    v_reason text := v_args ->> 'reason';
    row_ public.menu_availability;
    saved public.menu_availability;
begin
    if p_role not in ('kds', 'expo', 'admin') then
        return kds.rejected(p, format('a %s device cannot 86 items', p_role));
    end if;
    if jsonb_typeof(v_args -> 'item_name') is distinct from 'string'
        or regexp_replace(raw_name, '^\s+|\s+$', '', 'g') = '' or length(raw_name) > 200 then
        return kds.rejected(p, 'eighty_six needs args.item_name (the menu item''s name)');
    end if;
    if jsonb_typeof(available_raw) <> 'boolean' then
        return kds.rejected(p, 'args.available must be true or false');
    end if;
    v_available := available_raw::boolean;
    if coalesce(jsonb_typeof(v_args -> 'reason'), 'null') not in ('null', 'string') or length(v_reason) > 200 then
        return kds.rejected(p, 'args.reason must be a short text');
    end if;
    v_name := regexp_replace(raw_name, '^\s+|\s+$', '', 'g');
    select * into row_ from public.menu_availability m
    where m.restaurant_id = p_restaurant_id and lower(m.item_name) = lower(v_name)
    for update;
    if not found then
        if v_available then
            return kds.rejected(p, v_name || ' is not 86''d');
        end if;
        insert into public.menu_availability (restaurant_id, item_name, available, reason, updated_by)
        values (p_restaurant_id, v_name, v_available, v_reason, p ->> 'device_id')
        returning * into saved;
    else
        if row_.available = v_available then
            return kds.rejected(p, row_.item_name || ' is '
                || case when v_available then 'already available' else 'already 86d' end);
        end if;
        update public.menu_availability m set available = v_available, reason = v_reason,
            updated_by = p ->> 'device_id'
        where m.id = row_.id
        returning * into saved;
    end if;
    return kds.result(p, 'applied', menu_item => to_jsonb(saved));
end $$;

-- IntentResult: {id, status, reason, original_status, order, menu_item}, every key present.
create or replace function kds.result(
    p jsonb, p_status text, reason text default null, original_status text default null,
    "order" jsonb default null, menu_item jsonb default null
) returns jsonb
language sql immutable set search_path = '' as $$
    select jsonb_build_object('id', (p ->> 'id')::uuid, 'status', p_status, 'reason', reason,
        'original_status', original_status, 'order', "order", 'menu_item', menu_item)
$$;

create or replace function kds.rejected(p jsonb, reason text, "order" jsonb default null) returns jsonb
language sql immutable set search_path = '' as $$
    select kds.result(p, 'rejected', reason, null, "order", null)
$$;

-- One intent, not yet ledgered: decide and apply it (intents._decide).
create or replace function kds.decide(p_restaurant_id text, p_role text, p jsonb) returns jsonb
language plpgsql set search_path = '' as $$
declare
    o public.orders;
    reason text;
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
    reason := kds.order_intent(o, p, p_role);
    if reason is not null then
        return kds.rejected(p, reason, kds.order_json(p_restaurant_id, o.id));
    end if;
    return kds.result(p, 'applied', "order" => kds.order_json(p_restaurant_id, o.id));
end $$;

-- One intent, exactly once (intents._apply_one).
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

    v_result := kds.decide(p_restaurant_id, p_role, p);
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

-- The RPC. SECURITY DEFINER: it writes the ledger, cursors and kitchen-owned columns no client may
-- write directly, so it scopes every query to the caller's restaurant itself; search_path is empty
-- and every name qualified, so a caller's objects can never stand in for ours.
create or replace function public.apply_intents(intents jsonb) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
    meta constant jsonb := auth.jwt() -> 'app_metadata';
    v_restaurant_id constant text := meta ->> 'restaurant_id';
    v_role constant text := meta ->> 'device_role';
    v_sub constant text := auth.jwt() ->> 'sub';
    problem text;
    bad int;
    results jsonb := '[]'::jsonb;
    p jsonb;
begin
    if v_restaurant_id is null or v_role is null or v_sub is null
        or v_role not in ('kds', 'expo', 'pos', 'admin') then
        raise exception using errcode = '42501', message = 'permission denied: a device token is required',
            hint = 'Sign in with a device account whose app_metadata has restaurant_id and device_role.';
    end if;
    if v_role not in ('kds', 'expo', 'admin') then
        raise exception using errcode = '42501', message = format('a %s device cannot change tickets', v_role),
            hint = 'Allowed roles: admin, expo, kds.';
    end if;
    if jsonb_typeof(intents) is distinct from 'array' or jsonb_array_length(intents) not between 1 and 1000 then
        raise exception using errcode = '22023', message = 'intents must be an array of 1 to 1000 intents';
    end if;
    select e.i - 1, kds.intent_problem(e.value) into bad, problem
    from jsonb_array_elements(intents) with ordinality as e(value, i)
    where kds.intent_problem(e.value) is not null
    order by e.i limit 1;
    if problem is not null then
        raise exception using errcode = '22023', message = format('intents[%s]: %s', bad, problem);
    end if;
    if v_role <> 'admin' and exists (
        select 1 from jsonb_array_elements(intents) e where e.value ->> 'device_id' <> v_sub) then
        raise exception using errcode = '42501', message = 'intents carry another device''s id',
            hint = format('This token belongs to device %L.', v_sub);
    end if;

    -- First the change_counter lock, as every writer takes it first (kds.lock_change_counter): batches
    -- are serialised, so two deliveries of one intent can never both miss the ledger.
    perform 1 from public.change_counter where id = 1 for update;
    for p in select e.value from jsonb_array_elements(intents) with ordinality as e(value, i) order by e.i loop
        results := results || jsonb_build_array(kds.apply_one(v_restaurant_id, v_role, p));
    end loop;
    return results;
end $$;

revoke all on all functions in schema kds from public;
grant execute on function kds.derived_status(text, uuid), kds.is_change_after_send(text, timestamptz),
    kds.is_client(), kds.follow_items(uuid) to authenticated, service_role;
revoke all on function public.apply_intents(jsonb) from public, anon;
grant execute on function public.apply_intents(jsonb) to authenticated, service_role;
