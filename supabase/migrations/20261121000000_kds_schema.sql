-- KDS schema for a Supabase project: the exposed tables, the intent ledger, the triggers that own
-- version / change_seq / updated_at, the kitchen's rules on direct writes, RLS, and realtime.
--
-- Mirrors the companion backend (kds_backend/migrations/versions/0001_initial_schema.py): same table
-- and column names and types, so the app, the sync engine and the official Supabase clients see the
-- same rows from either server. Re-applying this file is a no-op: everything is IF NOT EXISTS,
-- CREATE OR REPLACE, or guarded by a DO block. Never edit this file once applied; add a new migration.

-- gen_random_uuid() is built in (PostgreSQL 13+): no extension needed, nothing lands in public.

-- Internal helpers live in their own schema: PostgREST only exposes `public` (and graphql_public), so
-- nothing here becomes an RPC endpoint.
create schema if not exists kds;
revoke all on schema kds from public;

-- ---------------------------------------------------------------- tables

-- One row: the server-wide change sequence (see kds.stamp_row for why a locked row, not a SEQUENCE).
create table if not exists public.change_counter (
    id integer primary key check (id = 1),
    value bigint not null
);
insert into public.change_counter (id, value) values (1, 0) on conflict (id) do nothing;

create table if not exists public.orders (
    id uuid primary key default gen_random_uuid(),
    -- A POS that leaves restaurant_id out gets its own (RLS then checks whatever it sends).
    restaurant_id varchar(64) not null default (auth.jwt() -> 'app_metadata' ->> 'restaurant_id'),
    number varchar(40) not null,
    source varchar(16) not null default 'pos' check (source in ('pos', 'online', 'delivery', 'kiosk')),
    type varchar(16) not null default 'dine_in' check (type in ('dine_in', 'takeout', 'delivery', 'pickup')),
    table_label varchar(200),
    server_name varchar(200),
    guests integer check (guests between 0 and 999),
    customer_name varchar(200),
    notes varchar(2000),
    priority varchar(16) not null default 'normal' check (priority in ('normal', 'rush')),
    status varchar(16) not null default 'new'
        check (status in ('new', 'in_progress', 'ready', 'served', 'cancelled')),
    created_at timestamptz not null default now(),
    due_at timestamptz,
    -- Server-owned: always overwritten by kds.stamp_row, and not writable by clients (column grants).
    updated_at timestamptz not null default now(),
    version bigint not null default 1,
    change_seq bigint not null default 0
);
-- The catch-up query: `restaurant_id=eq.X & change_seq=gt.N & order=change_seq`.
create index if not exists ix_orders_restaurant_change_seq on public.orders (restaurant_id, change_seq);
create index if not exists ix_orders_restaurant_status on public.orders (restaurant_id, status);

create table if not exists public.order_items (
    id uuid primary key default gen_random_uuid(),
    order_id uuid not null references public.orders (id) on delete cascade,
    restaurant_id varchar(64) not null default (auth.jwt() -> 'app_metadata' ->> 'restaurant_id'),
    station varchar(40) not null check (station ~ '^[a-z0-9_-]+$'),
    name varchar(200) not null,
    quantity integer not null default 1 check (quantity >= 1),
    modifiers jsonb not null default '[]' check (jsonb_typeof(modifiers) = 'array'),
    notes varchar(2000),
    allergens jsonb not null default '[]' check (jsonb_typeof(allergens) = 'array'),
    course integer not null default 1 check (course between 1 and 9),
    held boolean not null default false,
    status varchar(16) not null default 'new' check (status in ('new', 'cooking', 'done', 'voided')),
    -- No default on purpose: left out (NULL), kds.order_items_guard decides it as the companion does.
    changed_after_send boolean not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    version bigint not null default 1,
    change_seq bigint not null default 0
);
create index if not exists ix_order_items_order on public.order_items (order_id);
create index if not exists ix_order_items_restaurant_change_seq on public.order_items (restaurant_id, change_seq);

create table if not exists public.menu_availability (
    id uuid primary key default gen_random_uuid(),
    restaurant_id varchar(64) not null,
    item_name varchar(200) not null,
    available boolean not null,
    reason varchar(200),
    updated_by varchar(80),
    updated_at timestamptz not null default now(),
    version bigint not null default 1,
    change_seq bigint not null default 0,
    constraint uq_menu_availability_item unique (restaurant_id, item_name)
);
create index if not exists ix_menu_availability_restaurant_change_seq
    on public.menu_availability (restaurant_id, change_seq);

-- Exactly-once: every intent that was decided (applied or rejected) is ledgered in the same
-- transaction as its effect; a device's cursor is its highest device_seq decided in this restaurant.
create table if not exists public.intent_ledger (
    intent_id uuid primary key,
    restaurant_id varchar(64) not null,
    device_id varchar(80) not null,
    device_seq bigint not null,
    kind varchar(20) not null,
    status varchar(16) not null check (status in ('applied', 'rejected')),
    reason varchar(500),
    order_id uuid,
    received_at timestamptz not null default now()
);
create index if not exists ix_intent_ledger_device_seq on public.intent_ledger (device_id, device_seq);

create table if not exists public.device_cursors (
    restaurant_id varchar(64) not null,
    device_id varchar(80) not null,
    last_seq bigint not null,
    primary key (restaurant_id, device_id)
);

-- ---------------------------------------------------------------- shared rules (also used by apply_intents)

-- The order's status implied by its items (api_client/order_machine.py derive_status).
create or replace function kds.derived_status(p_current text, p_order_id uuid) returns text
language sql stable set search_path = '' as $$
    select case
        when p_current in ('served', 'cancelled') then p_current
        when count(*) filter (where i.status <> 'voided') = 0 then p_current
        when bool_and(i.status = 'done') filter (where i.status <> 'voided') then 'ready'
        when bool_or(i.status <> 'new') filter (where i.status <> 'voided') then 'in_progress'
        when p_current = 'in_progress' then 'in_progress'
        else 'new'
    end
    from public.order_items i
    where i.order_id = p_order_id
$$;

-- Whether a line written now to an order is news to a kitchen that already has the ticket
-- (kds_backend/orders.py is_change_after_send, CHANGE_GRACE = 10 s).
create or replace function kds.is_change_after_send(p_status text, p_created_at timestamptz) returns boolean
language sql stable set search_path = '' as $$
    select p_status <> 'new' or now() - p_created_at > interval '10 seconds'
$$;

-- Who is writing: Supabase runs Data API requests as `anon` / `authenticated`; apply_intents (SECURITY
-- DEFINER), migrations and service_role run as other roles and are trusted to keep the rules themselves.
create or replace function kds.is_client() returns boolean
language sql stable set search_path = '' as $$
    select current_user in ('anon', 'authenticated')
$$;

-- ---------------------------------------------------------------- version, change_seq, updated_at

-- Statement-level, before any row is touched: take the change_counter row lock first. Every writer
-- then locks in the same order (counter, then rows), so a POS PATCH and an apply_intents batch queue
-- up instead of deadlocking. apply_intents takes the same lock as its very first step.
create or replace function kds.lock_change_counter() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    perform 1 from public.change_counter where id = 1 for update;
    return null;
end $$;

-- Every inserted or updated row gets version 1 / version + 1, the next change_seq, and updated_at.
--
-- Why a locked counter row and not a SEQUENCE: nextval() hands out numbers at call time, so a
-- transaction that takes 41 and commits after another took 42 would publish 41 *after* a client
-- caught up to 42, and that client would never ask for it again (`change_seq=gt.42`). The counter
-- row is updated (and so locked) inside the writing transaction and the lock is held to commit:
-- writers are serialised, and change_seq order is commit order, exactly as in the companion
-- (kds_backend/db/writer.py). It is also transactional: a rolled-back write leaves no gap.
-- The cost is one writer at a time per database, which a kitchen's write rate never notices.
create or replace function kds.stamp_row() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    if tg_op = 'INSERT' then
        new.version := 1;
    else
        new.version := old.version + 1;
    end if;
    update public.change_counter set value = value + 1 where id = 1 returning value into new.change_seq;
    new.updated_at := now();
    return new;
end $$;

-- ---------------------------------------------------------------- the kitchen's rules on direct writes

-- Orders written by a client (a POS through the Data API). Status belongs to the kitchen: a POS
-- creates orders as `new` and may cancel them, nothing else; served and cancelled are final for it.
-- The only way back from served is the `recall` intent, which runs inside apply_intents (not a
-- client role), and nobody brings a cancelled order back. Codes: 23514 (check_violation), which
-- PostgREST answers with 400; the companion answers the same cases 409 KDS409 / 400.
create or replace function kds.orders_guard() returns trigger
language plpgsql set search_path = '' as $$
begin
    if not kds.is_client() then
        return new;
    end if;
    if tg_op = 'INSERT' then
        if new.status <> 'new' then
            raise exception using errcode = '23514', message = 'a new order must have status "new"';
        end if;
        return new;
    end if;
    if new.status is distinct from old.status then
        if old.status = 'served' then
            raise exception using errcode = '23514',
                message = format('Order %s was already served: it cannot be cancelled', old.number),
                hint = 'Only orders that are not served yet can be cancelled.';
        elsif old.status = 'cancelled' then
            raise exception using errcode = '23514', message = format('Order %s was cancelled', old.number);
        elsif new.status <> 'cancelled' then
            raise exception using errcode = '23514',
                message = 'an order''s status follows its items; a POS may only set it to "cancelled"',
                hint = 'Kitchen screens change tickets through apply_intents.';
        end if;
    end if;
    return new;
end $$;

-- Items: always in their order's restaurant; from a client, new lines arrive as `new` and only to
-- open orders, the only status a client sets is `voided`, and a line added or changed on a ticket
-- the kitchen already has is flagged changed_after_send (kds_backend/postgrest/writes.py).
create or replace function kds.order_items_guard() returns trigger
language plpgsql set search_path = '' as $$
declare
    parent record;
    has_parent boolean;
begin
    -- Read as the writer: under RLS a client only finds its own restaurant's orders.
    select o.restaurant_id, o.status, o.number, o.created_at into parent
    from public.orders o where o.id = new.order_id;
    has_parent := found;
    if has_parent and parent.restaurant_id <> new.restaurant_id then
        raise exception using errcode = '23514',
            message = 'an order item must belong to its order''s restaurant';
    end if;
    if tg_op = 'INSERT' then
        if new.changed_after_send is null then
            new.changed_after_send := has_parent and kds.is_change_after_send(parent.status, parent.created_at);
        end if;
        if kds.is_client() then
            if new.status <> 'new' then
                raise exception using errcode = '23514', message = 'a new order item must have status "new"';
            end if;
            if has_parent and parent.status in ('served', 'cancelled') then
                raise exception using errcode = '23514',
                    message = format('Order %s is %s: items cannot be added', parent.number, parent.status);
            end if;
        end if;
        return new;
    end if;
    if not kds.is_client() then
        return new;
    end if;
    if new.status is distinct from old.status and new.status <> 'voided' then
        raise exception using errcode = '23514',
            message = 'a POS may only void an order item; cooks change items through apply_intents';
    end if;
    if has_parent and kds.is_change_after_send(parent.status, parent.created_at)
        and (new.quantity, new.modifiers, new.notes, new.allergens, new.status)
            is distinct from (old.quantity, old.modifiers, old.notes, old.allergens, old.status) then
        new.changed_after_send := true;
    end if;
    return new;
end $$;

-- After a client adds or voids lines, the order's status follows its items (a void can make an
-- order ready). SECURITY DEFINER so that this status change is the server's, not the POS's.
create or replace function kds.follow_items(p_order_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
    current_status text;
    derived text;
begin
    select status into current_status from public.orders where id = p_order_id;
    derived := kds.derived_status(current_status, p_order_id);
    if derived is distinct from current_status then
        update public.orders set status = derived where id = p_order_id;
    end if;
end $$;

create or replace function kds.order_items_follow() returns trigger
language plpgsql set search_path = '' as $$
begin
    -- apply_intents computes the status itself (one order version per intent, as the companion).
    if kds.is_client() then
        perform kds.follow_items(new.order_id);
    end if;
    return null;
end $$;

-- Trigger names sort in firing order: guards before stamps.
create or replace trigger orders_00_lock before insert or update on public.orders
    for each statement execute function kds.lock_change_counter();
create or replace trigger orders_10_guard before insert or update on public.orders
    for each row execute function kds.orders_guard();
create or replace trigger orders_90_stamp before insert or update on public.orders
    for each row execute function kds.stamp_row();

create or replace trigger order_items_00_lock before insert or update on public.order_items
    for each statement execute function kds.lock_change_counter();
create or replace trigger order_items_10_guard before insert or update on public.order_items
    for each row execute function kds.order_items_guard();
create or replace trigger order_items_90_stamp before insert or update on public.order_items
    for each row execute function kds.stamp_row();
create or replace trigger order_items_99_follow after insert or update of status on public.order_items
    for each row execute function kds.order_items_follow();

create or replace trigger menu_availability_00_lock before insert or update on public.menu_availability
    for each statement execute function kds.lock_change_counter();
create or replace trigger menu_availability_90_stamp before insert or update on public.menu_availability
    for each row execute function kds.stamp_row();

-- ---------------------------------------------------------------- privileges

-- Supabase's default privileges give anon and authenticated everything on new public tables; RLS
-- would still hold, but grant exactly what each needs so a missing policy can never open a table.
-- Revoking from every API role first keeps a re-apply a true no-op (same ACL, same order).
revoke all on public.orders, public.order_items, public.menu_availability,
    public.intent_ledger, public.device_cursors, public.change_counter from public, anon, authenticated, service_role;
grant select on public.orders, public.order_items, public.menu_availability to authenticated;
-- Column grants: version, change_seq and updated_at are the server's (42501 if a client sends them).
grant insert (id, restaurant_id, number, source, type, table_label, server_name, guests, customer_name,
              notes, priority, status, created_at, due_at) on public.orders to authenticated;
grant update (table_label, server_name, guests, customer_name, notes, priority, due_at, status)
    on public.orders to authenticated;
grant insert (id, order_id, restaurant_id, station, name, quantity, modifiers, notes, allergens, course,
              held, status, changed_after_send, created_at) on public.order_items to authenticated;
grant update (quantity, modifiers, notes, allergens, status) on public.order_items to authenticated;
-- No DELETE for clients: orders are cancelled and lines voided, so every screen sees why.
-- The ledger, the cursors and the counter are written by apply_intents only.
grant all on public.orders, public.order_items, public.menu_availability,
    public.intent_ledger, public.device_cursors, public.change_counter to service_role;

grant usage on schema kds to authenticated, service_role;
revoke all on all functions in schema kds from public;
-- Called by the invoker-rights triggers while a client writes.
grant execute on function kds.derived_status(text, uuid), kds.is_change_after_send(text, timestamptz),
    kds.is_client(), kds.follow_items(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------- row level security

-- Reads: every device role, its own restaurant only. Writes through the Data API: POS and admin
-- devices, own restaurant only (kds and expo screens write through apply_intents). The restaurant
-- and role come from the device account's app_metadata, which only the service role can set
-- (user_metadata is user-editable and must never be trusted here). `(select auth.jwt() ...)` is
-- evaluated once per statement, not per row (Supabase's RLS performance advice).
alter table public.orders enable row level security;
alter table public.order_items enable row level security;
alter table public.menu_availability enable row level security;
alter table public.intent_ledger enable row level security;   -- no policies: apply_intents only
alter table public.device_cursors enable row level security;  -- no policies: apply_intents only
alter table public.change_counter enable row level security;  -- no policies: triggers only

do $$
declare
    own text := $p$restaurant_id = (select auth.jwt() -> 'app_metadata' ->> 'restaurant_id')$p$;
    any_device text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('kds', 'expo', 'pos', 'admin')$p$;
    writer text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('pos', 'admin')$p$;
    -- An item only goes into an order the writer can see (the FK check alone ignores RLS).
    own_parent text := $p$exists (select 1 from public.orders o where o.id = order_id)$p$;
    p record;
begin
    for p in
        select * from (values
            ('orders', 'orders_select', 'select', format('%s and %s', own, any_device), null),
            ('orders', 'orders_insert', 'insert', null, format('%s and %s', own, writer)),
            ('orders', 'orders_update', 'update', format('%s and %s', own, writer), format('%s and %s', own, writer)),
            ('order_items', 'order_items_select', 'select', format('%s and %s', own, any_device), null),
            ('order_items', 'order_items_insert', 'insert', null,
                format('%s and %s and %s', own, writer, own_parent)),
            ('order_items', 'order_items_update', 'update', format('%s and %s', own, writer),
                format('%s and %s', own, writer)),
            ('menu_availability', 'menu_availability_select', 'select', format('%s and %s', own, any_device), null)
        ) as t(tbl, name, cmd, using_expr, check_expr)
    loop
        if not exists (select 1 from pg_policies where schemaname = 'public' and tablename = p.tbl
                       and policyname = p.name) then
            execute format('create policy %I on public.%I for %s to authenticated%s%s', p.name, p.tbl, p.cmd,
                coalesce(' using (' || p.using_expr || ')', ''), coalesce(' with check (' || p.check_expr || ')', ''));
        end if;
    end loop;
end $$;

-- ---------------------------------------------------------------- realtime

-- REPLICA IDENTITY FULL: an UPDATE's old_record then carries the whole previous row, so a screen
-- can tell that an item left its station or an order left `ready` (and Realtime can apply filters on
-- those columns to UPDATEs and DELETEs). With RLS on, Supabase still sends only the key of a deleted
-- row; clients cannot delete here anyway. The cost is larger WAL records for these small tables.
alter table public.orders replica identity full;
alter table public.order_items replica identity full;
alter table public.menu_availability replica identity full;

do $$
declare
    t text;
begin
    if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;  -- every Supabase project has it; plain PostgreSQL may not
    end if;
    foreach t in array array['orders', 'order_items', 'menu_availability'] loop
        if not exists (select 1 from pg_publication_tables
                       where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = t) then
            execute format('alter publication supabase_realtime add table public.%I', t);
        end if;
    end loop;
end $$;
