-- The deletion log (companion: kds_backend/db/tables.py deleted_rows, kds_backend/db/writer.py Writer.delete,
-- kds_backend/migrations/versions/20261123000000_deleted_rows.py).
--
-- A deleted row is simply not in its table any more, so a screen that was off when it went would keep it for
-- ever: catch-up pages `change_seq=gt.N` and never sees it. Every row deleted from orders, order_items or
-- menu_availability is therefore logged in public.deleted_rows by an AFTER DELETE row trigger (which also
-- fires for the items an order's ON DELETE CASCADE removes), under its own change_seq taken from the same
-- locked change_counter as kds.stamp_row, so the log is in commit order with every other change. Screens
-- read it like the other tables: `GET /rest/v1/deleted_rows?restaurant_id=eq.R&change_seq=gt.N
-- &order=change_seq.asc&limit=500`. Read-only for clients (select only, RLS to the caller's restaurant), no
-- foreign keys (so nothing embeds it), not in the realtime publication.
--
-- Rows are kept, never pruned: deletes are rare admin actions, and pruning would need a horizon screens can
-- see (a screen that was off for longer would miss deletions without knowing); left for later.
-- Re-applying this file is a no-op.

create table if not exists public.deleted_rows (
    change_seq bigint primary key,
    restaurant_id varchar(64) not null,
    table_name varchar(32) not null check (table_name in ('orders', 'order_items', 'menu_availability')),
    row_id uuid not null,
    order_id uuid,
    deleted_at timestamptz not null default now()
);
-- The catch-up query: `restaurant_id=eq.R & change_seq=gt.N & order=change_seq`.
create index if not exists ix_deleted_rows_restaurant_change_seq on public.deleted_rows (restaurant_id, change_seq);

-- One log row per deleted row. SECURITY DEFINER: whoever deletes (service_role, postgres, a cascade) need not
-- be able to write the counter or the log. `order_id`: for an item its order, for an order its own id, null for
-- a menu row (read through to_jsonb: `old.order_id` does not exist on the other tables).
create or replace function kds.log_deleted_row() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
    seq bigint;
begin
    update public.change_counter set value = value + 1 where id = 1 returning value into seq;
    insert into public.deleted_rows (change_seq, restaurant_id, table_name, row_id, order_id, deleted_at)
    values (seq, old.restaurant_id, tg_table_name, old.id,
            case tg_table_name
                when 'orders' then old.id
                when 'order_items' then (to_jsonb(old) ->> 'order_id')::uuid
            end,
            now());
    return null;
end $$;

revoke all on function kds.log_deleted_row() from public;

-- Deletes lock the counter first, before any row, like inserts and updates (the `_00_lock` triggers of
-- 20261121000000_kds_schema.sql): otherwise a DELETE holding a row lock and then waiting for the counter could
-- deadlock with apply_intents holding the counter and waiting for that row. Trigger names sort in firing order.
create or replace trigger orders_00_lock_delete before delete on public.orders
    for each statement execute function kds.lock_change_counter();
create or replace trigger orders_95_log_delete after delete on public.orders
    for each row execute function kds.log_deleted_row();

create or replace trigger order_items_00_lock_delete before delete on public.order_items
    for each statement execute function kds.lock_change_counter();
create or replace trigger order_items_95_log_delete after delete on public.order_items
    for each row execute function kds.log_deleted_row();

create or replace trigger menu_availability_00_lock_delete before delete on public.menu_availability
    for each statement execute function kds.lock_change_counter();
create or replace trigger menu_availability_95_log_delete after delete on public.menu_availability
    for each row execute function kds.log_deleted_row();

-- Read-only: select for devices (through RLS) and the service role; nobody inserts, updates or deletes through
-- the API (the trigger writes as the owner). Revoking first keeps a re-apply a true no-op.
revoke all on public.deleted_rows from public, anon, authenticated, service_role;
grant select on public.deleted_rows to authenticated, service_role;

alter table public.deleted_rows enable row level security;

do $$
begin
    if not exists (select 1 from pg_policies where schemaname = 'public' and tablename = 'deleted_rows'
                   and policyname = 'deleted_rows_select') then
        -- As the other tables' select policies: own restaurant, any device role, from app_metadata.
        create policy deleted_rows_select on public.deleted_rows for select to authenticated using (
            restaurant_id = (select auth.jwt() -> 'app_metadata' ->> 'restaurant_id')
            and (select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('kds', 'expo', 'pos', 'admin')
        );
    end if;
end $$;
