-- Recipes (issue 19 item 4; companion: kds_backend/recipes.py, kds_backend/db/tables.py recipes,
-- kds_backend/migrations/versions/20261207000600_recipes.py).
--
-- public.recipes: how many of one ingredient go into one of a menu item ('Double burger', 'patty', 2), one row
-- per item and ingredient. Screens read them (`GET /rest/v1/recipes?restaurant_id=eq.R`), keep them in their local
-- store and count ingredients in the all-day panel (three double burgers: six patties). Every device of the
-- restaurant reads them; only an admin device writes them, over the Data API (supabase-js
-- `from('recipes').insert/update/delete`): the companion's `PUT /api/v1/recipes/{item}` has no twin here, an admin
-- tool deletes an item's old lines and inserts the new ones in one request or transaction. Rows are stamped
-- (version, change_seq, updated_at) like the other synced tables, deletions are logged in public.deleted_rows, and
-- changes are published (postgres_changes) and broadcast (kds:<restaurant>) so screens recount at once.
-- Item and ingredient names are unique per restaurant whatever their case, as the companion matches them.
-- Re-applying this file is a no-op.

create table if not exists public.recipes (
    id uuid primary key default gen_random_uuid(),
    restaurant_id varchar(64) not null default (auth.jwt() -> 'app_metadata' ->> 'restaurant_id'),
    item_name varchar(200) not null check (item_name ~ '\S'),
    ingredient varchar(200) not null check (ingredient ~ '\S'),
    quantity integer not null default 1 check (quantity between 1 and 1000),
    -- Server-owned: always overwritten by kds.stamp_row, and not writable by clients (column grants).
    updated_at timestamptz not null default now(),
    version bigint not null default 1,
    change_seq bigint not null default 0,
    constraint uq_recipes_item_ingredient unique (restaurant_id, item_name, ingredient)
);
create unique index if not exists uq_recipes_item_ingredient_any_case
    on public.recipes (restaurant_id, lower(item_name), lower(ingredient));
-- The catch-up query: `restaurant_id=eq.R & change_seq=gt.N & order=change_seq`.
create index if not exists ix_recipes_restaurant_change_seq on public.recipes (restaurant_id, change_seq);

-- The deletion log takes recipe lines too (dropped and added again: a re-apply leaves the same constraint).
alter table public.deleted_rows drop constraint if exists deleted_rows_table_name_check;
alter table public.deleted_rows add constraint deleted_rows_table_name_check
    check (table_name in ('orders', 'order_items', 'menu_availability', 'recipes'));

-- Trigger names sort in firing order: the counter is locked first (as 20261121000000_kds_schema.sql explains).
create or replace trigger recipes_00_lock before insert or update on public.recipes
    for each statement execute function kds.lock_change_counter();
create or replace trigger recipes_90_stamp before insert or update on public.recipes
    for each row execute function kds.stamp_row();
create or replace trigger recipes_00_lock_delete before delete on public.recipes
    for each statement execute function kds.lock_change_counter();
create or replace trigger recipes_95_log_delete after delete on public.recipes
    for each row execute function kds.log_deleted_row();

-- Privileges: revoked from every API role first, so a re-apply is a true no-op.
revoke all on public.recipes from public, anon, authenticated, service_role;
grant select, delete on public.recipes to authenticated;
grant insert (id, restaurant_id, item_name, ingredient, quantity), update (item_name, ingredient, quantity)
    on public.recipes to authenticated;
grant all on public.recipes to service_role;

alter table public.recipes enable row level security;

do $$
declare
    own text := $p$restaurant_id = (select auth.jwt() -> 'app_metadata' ->> 'restaurant_id')$p$;
    any_device text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('kds', 'expo', 'pos', 'admin')$p$;
    admin text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') = 'admin'$p$;
    p record;
begin
    for p in
        select * from (values
            ('recipes_select', 'select', format('%s and %s', own, any_device), null),
            ('recipes_insert', 'insert', null, format('%s and %s', own, admin)),
            ('recipes_update', 'update', format('%s and %s', own, admin), format('%s and %s', own, admin)),
            ('recipes_delete', 'delete', format('%s and %s', own, admin), null)
        ) as t(name, cmd, using_expr, check_expr)
    loop
        if not exists (select 1 from pg_policies where schemaname = 'public' and tablename = 'recipes'
                       and policyname = p.name) then
            execute format('create policy %I on public.recipes for %s to authenticated%s%s', p.name, p.cmd,
                coalesce(' using (' || p.using_expr || ')', ''), coalesce(' with check (' || p.check_expr || ')', ''));
        end if;
    end loop;
end $$;

-- Realtime: published like menu_availability (old records whole), and broadcast to the restaurant's topic.
alter table public.recipes replica identity full;

do $$
begin
    if not exists (select 1 from pg_publication where pubname = 'supabase_realtime') then
        create publication supabase_realtime;
    end if;
    if not exists (select 1 from pg_publication_tables
                   where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'recipes') then
        alter publication supabase_realtime add table public.recipes;
    end if;
    if not exists (select 1 from pg_trigger
                   where tgname = 'broadcast_changes' and tgrelid = 'public.recipes'::regclass) then
        create trigger broadcast_changes after insert or update or delete on public.recipes
            for each row execute function kds.broadcast_row_change();
    end if;
end $$;
