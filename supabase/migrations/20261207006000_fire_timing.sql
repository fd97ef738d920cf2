-- Fire timing per item (issue 19 item 1; companion: kds_backend/prep_times.py, kds_backend/orders.py
-- with_fire_timing and save_order, kds_backend/migrations/versions/20261207000700_fire_timing.py).
--
-- * public.prep_times: how long a menu item takes to cook, one row per restaurant and item (names matched
--   whatever their case, as the POS, recipes and the 86 list name them). Every device of the restaurant reads it;
--   only an admin device writes it (supabase-js `from('prep_times').upsert({item_name, seconds})`).
-- * order_items.prep_seconds: the item's prep time when it was sent, copied from prep_times by the insert trigger
--   (a later change of the menu never re-times a ticket on the rail). Not writable by clients (no column grant).
-- * order_items.fired_at: when the item's course went to the kitchen: its insert, or the intent (fire, or the
--   bump that auto-fires the next course) that took its hold off; null while held. Stamped by the same trigger
--   on the server's clock (the n-th intent of an apply_intents transaction n microseconds later, as done_at), so
--   apply_intents needs no change: kds.order_intent sets held, the trigger stamps.
--
-- Screens derive each item's fire time from these two columns (api_client/fire_timing.py): nothing runs on a
-- timer here. A cook's "fire now" is the intent start on the waiting item. Rows sent before this file have no
-- fired_at and no prep time: they are never held back. Re-applying this file is a no-op.

alter table public.order_items add column if not exists prep_seconds integer;
alter table public.order_items add column if not exists fired_at timestamptz;

create table if not exists public.prep_times (
    restaurant_id varchar(64) not null default (auth.jwt() -> 'app_metadata' ->> 'restaurant_id'),
    item_name varchar(200) not null check (item_name ~ '\S'),
    seconds integer not null check (seconds between 1 and 14400),
    updated_at timestamptz not null default now(),
    primary key (restaurant_id, item_name)
);
create unique index if not exists uq_prep_times_item_any_case on public.prep_times (restaurant_id, lower(item_name));

revoke all on public.prep_times from public, anon, authenticated, service_role;
grant select, delete on public.prep_times to authenticated;
grant insert (restaurant_id, item_name, seconds), update (item_name, seconds) on public.prep_times to authenticated;
grant all on public.prep_times to service_role;

alter table public.prep_times enable row level security;

do $$
declare
    own text := $p$restaurant_id = (select auth.jwt() -> 'app_metadata' ->> 'restaurant_id')$p$;
    any_device text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('kds', 'expo', 'pos', 'admin')$p$;
    admin text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') = 'admin'$p$;
    p record;
begin
    for p in
        select * from (values
            ('prep_times_select', 'select', format('%s and %s', own, any_device), null),
            ('prep_times_insert', 'insert', null, format('%s and %s', own, admin)),
            ('prep_times_update', 'update', format('%s and %s', own, admin), format('%s and %s', own, admin)),
            ('prep_times_delete', 'delete', format('%s and %s', own, admin), null)
        ) as t(name, cmd, using_expr, check_expr)
    loop
        if not exists (select 1 from pg_policies where schemaname = 'public' and tablename = 'prep_times'
                       and policyname = p.name) then
            execute format('create policy %I on public.prep_times for %s to authenticated%s%s', p.name, p.cmd,
                coalesce(' using (' || p.using_expr || ')', ''), coalesce(' with check (' || p.check_expr || ')', ''));
        end if;
    end loop;
end $$;

create or replace function kds.stamp_prep_time() returns trigger
language plpgsql set search_path = '' as $$
begin
    new.updated_at := now();
    return new;
end $$;
revoke all on function kds.stamp_prep_time() from public;
grant execute on function kds.stamp_prep_time() to authenticated, service_role;

create or replace trigger prep_times_90_stamp before insert or update on public.prep_times
    for each row execute function kds.stamp_prep_time();

-- SECURITY DEFINER: a POS inserting items reads its restaurant's prep times whatever RLS lets it see (the
-- restaurant is the item's, which the guard has checked); a trigger function, so no client can call it.
create or replace function kds.stamp_fire_timing() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
    stamp timestamptz := now()
        + coalesce(nullif(current_setting('kds.intent_no', true), '')::int, 0) * interval '1 microsecond';
begin
    if tg_op = 'INSERT' then
        -- The item's prep time as the menu has it now.
        new.prep_seconds := (select p.seconds from public.prep_times p
                             where p.restaurant_id = new.restaurant_id and lower(p.item_name) = lower(btrim(new.name)));
        new.fired_at := case when new.held then null else stamp end;
        return new;
    end if;
    new.prep_seconds := old.prep_seconds;
    if new.held then
        new.fired_at := null;
    elsif old.held then
        new.fired_at := stamp;  -- its course fired (by hand, or the bump that finished the course before)
    else
        new.fired_at := old.fired_at;
    end if;
    return new;
end $$;
revoke all on function kds.stamp_fire_timing() from public;
grant execute on function kds.stamp_fire_timing() to authenticated, service_role;

-- After the guard (10) and the done time (20), before the stamp (90): trigger names sort in firing order.
create or replace trigger order_items_30_fire_timing before insert or update on public.order_items
    for each row execute function kds.stamp_fire_timing();

