-- Prep times and end of day (companion: kds_backend/migrations/versions/20261122000500_prep_times_day_end.py,
-- kds_backend/orders.py save_order, kds_backend/day_end.py).
--
-- * order_items.done_at: the server's time an item became done (now(), the time the transaction applying
--   the intent started, never a device's clock); kept while done, cleared when the item is unbumped or
--   recalled. Set by a trigger, so apply_intents and any other writer keep it right; clients cannot write
--   it (no column grant).
-- * orders.cleared_at: set by kds.clear_day when the kitchen's day ends with the order still open. The
--   order keeps its status and items (reports tell abandoned from served), leaves every screen, and
--   apply_intents rejects intents on it. The update goes through the usual triggers, so version and
--   change_seq move and Realtime publishes it like any other change.
-- Re-applying this file is a no-op.

alter table public.order_items add column if not exists done_at timestamptz;
alter table public.orders add column if not exists cleared_at timestamptz;
create index if not exists ix_orders_restaurant_created_at on public.orders (restaurant_id, created_at);

-- ---------------------------------------------------------------- done_at

create or replace function kds.stamp_done_at() returns trigger
language plpgsql set search_path = '' as $$
begin
    if new.status <> 'done' then
        new.done_at := null;
    elsif tg_op = 'UPDATE' and old.status = 'done' then
        new.done_at := old.done_at;  -- still done: the bump's time, not the time of a later change
    else
        new.done_at := now();
    end if;
    return new;
end $$;

-- After the guard (10), before the stamp (90): trigger names sort in firing order.
create or replace trigger order_items_20_done_at before insert or update on public.order_items
    for each row execute function kds.stamp_done_at();

-- ---------------------------------------------------------------- the kitchen day

-- The start of the kitchen day containing p_now: the last p_hour:00 (local time in p_tz) at or before it
-- (api_client/business_day.py day_start).
create or replace function kds.day_start(p_now timestamptz, p_hour int, p_tz text) returns timestamptz
language plpgsql stable set search_path = '' as $$
declare
    local_now timestamp := p_now at time zone p_tz;
    boundary timestamp;
begin
    if p_hour is null or p_hour not between 0 and 23 then
        raise exception using errcode = '22023', message = format('the day-end hour must be 0 to 23, not %s', p_hour);
    end if;
    boundary := date_trunc('day', local_now) + make_interval(hours => p_hour);
    if boundary > local_now then
        boundary := boundary - interval '1 day';
    end if;
    return boundary at time zone p_tz;
end $$;

-- Archive every order still open (new, in_progress, ready) created before p_before; NULL restaurant means
-- every restaurant (what a pg_cron job does). Returns how many were cleared. Idempotent.
create or replace function kds.clear_day(p_before timestamptz, p_restaurant_id text default null) returns integer
language plpgsql security definer set search_path = '' as $$
declare
    n integer;
begin
    if p_before is null then
        raise exception using errcode = '22023', message = 'clear_day needs the time to clear up to';
    end if;
    update public.orders set cleared_at = now()
    where cleared_at is null
      and status in ('new', 'in_progress', 'ready')
      and created_at < p_before
      and (p_restaurant_id is null or restaurant_id = p_restaurant_id);
    get diagnostics n = row_count;
    return n;
end $$;

-- The admin's RPC (`POST /rest/v1/rpc/clear_day`, body `{}` or `{"before": "<timestamptz>"}`): clear the
-- caller's restaurant, up to `before` (default: now, i.e. every open order). Same answer as the companion.
create or replace function public.clear_day(before timestamptz default null) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
    meta constant jsonb := auth.jwt() -> 'app_metadata';
    v_restaurant_id constant text := meta ->> 'restaurant_id';
    v_before constant timestamptz := coalesce(before, now());
begin
    if v_restaurant_id is null or coalesce(meta ->> 'device_role', '') <> 'admin' then
        raise exception using errcode = '42501', message = 'only an admin device can clear the day',
            hint = 'Allowed roles: admin.';
    end if;
    return jsonb_build_object('cleared', kds.clear_day(v_before, v_restaurant_id), 'before', v_before);
end $$;

-- ---------------------------------------------------------------- intents on cleared orders

-- An intent on a cleared order is rejected with the companion's reason (api_client/order_machine.py), or NULL.
create or replace function kds.cleared_rejection(p_restaurant_id text, p jsonb) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
    o public.orders;
begin
    if p ->> 'kind' = 'eighty_six' or p ->> 'order_id' is null then
        return null;
    end if;
    select * into o from public.orders
    where id = (p ->> 'order_id')::uuid and restaurant_id = p_restaurant_id and cleared_at is not null;
    if not found then
        return null;
    end if;
    return kds.rejected(p, format('Order %s was cleared at the end of the day', o.number),
        kds.order_json(p_restaurant_id, o.id));
end $$;

-- One intent, exactly once (intents._apply_one). Replaces the function of 20261121000100_apply_intents.sql
-- with one change: a cleared order is refused before kds.decide runs.
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

revoke all on function kds.stamp_done_at(), kds.day_start(timestamptz, int, text),
    kds.clear_day(timestamptz, text), kds.cleared_rejection(text, jsonb) from public;
-- The done_at trigger runs with the invoker's rights while a POS writes items.
grant execute on function kds.stamp_done_at() to authenticated, service_role;
grant execute on function kds.day_start(timestamptz, int, text), kds.clear_day(timestamptz, text) to service_role;
revoke all on function public.clear_day(timestamptz) from public, anon;
grant execute on function public.clear_day(timestamptz) to authenticated, service_role;
