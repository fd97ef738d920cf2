-- Routing new items by load (issue 19 item 2; companion: kds_backend/load_routing.py, kds_backend/orders.py,
-- kds_backend/migrations/versions/20261207001000_load_routing.py). Off unless a restaurant turns it on.
--
-- * public.load_routing: one row a restaurant (none: off). `alternates` lists, for a station, the stations that
--   can also make its items, in order of preference after it: {"grill": ["flat"]}. Every device of the restaurant
--   reads it; only an admin device writes it (supabase-js `from('load_routing').upsert({route_by_load: true,
--   alternates: {grill: ['flat']}})`).
-- * kds.route_by_load, an insert trigger of order_items: with route_by_load on, an item whose station (as the POS
--   names it) has alternates goes to whichever of the group has the fewest open items now (new or cooking, on an
--   order neither served, cancelled nor cleared); a tie goes to the station named, then the alternates as listed.
--   When the order already has an item (not voided) at a station of the group, the new one joins it, so one
--   order's items of a group stay on one ticket. A multi-row insert sees the rows before it (a volatile function
--   in a row-level BEFORE trigger), as the companion counts the items it has placed.
--
-- A security invoker: the POS's own RLS shows it its restaurant's items and settings, which is all it counts.
-- Re-applying this file is a no-op.

create table if not exists public.load_routing (
    restaurant_id varchar(64) primary key default (auth.jwt() -> 'app_metadata' ->> 'restaurant_id'),
    route_by_load boolean not null default false,
    alternates jsonb not null default '{}'::jsonb,
    updated_at timestamptz not null default now()
);

revoke all on public.load_routing from public, anon, authenticated, service_role;
grant select, delete on public.load_routing to authenticated;
grant insert (restaurant_id, route_by_load, alternates), update (route_by_load, alternates)
    on public.load_routing to authenticated;
grant all on public.load_routing to service_role;

alter table public.load_routing enable row level security;

do $$
declare
    own text := $p$restaurant_id = (select auth.jwt() -> 'app_metadata' ->> 'restaurant_id')$p$;
    any_device text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('kds', 'expo', 'pos', 'admin')$p$;
    admin text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') = 'admin'$p$;
    p record;
begin
    for p in
        select * from (values
            ('load_routing_select', 'select', format('%s and %s', own, any_device), null),
            ('load_routing_insert', 'insert', null, format('%s and %s', own, admin)),
            ('load_routing_update', 'update', format('%s and %s', own, admin), format('%s and %s', own, admin)),
            ('load_routing_delete', 'delete', format('%s and %s', own, admin), null)
        ) as t(name, cmd, using_expr, check_expr)
    loop
        if not exists (select 1 from pg_policies where schemaname = 'public' and tablename = 'load_routing'
                       and policyname = p.name) then
            execute format('create policy %I on public.load_routing for %s to authenticated%s%s', p.name, p.cmd,
                coalesce(' using (' || p.using_expr || ')', ''), coalesce(' with check (' || p.check_expr || ')', ''));
        end if;
    end loop;
end $$;

-- The companion's alternates_problem: station names only, at most 10 alternates a station.
create or replace function kds.check_load_routing() returns trigger
language plpgsql set search_path = '' as $$
declare
    entry record;
    other jsonb;
begin
    if jsonb_typeof(new.alternates) <> 'object' then
        raise exception using errcode = '23514', message = 'alternates must be an object: station -> [stations]';
    end if;
    for entry in select key, value from jsonb_each(new.alternates) loop
        if entry.key !~ '^[a-z0-9_-]{1,40}$' then
            raise exception using errcode = '23514', message = format('%s is not a station name', entry.key);
        end if;
        if jsonb_typeof(entry.value) <> 'array' or jsonb_array_length(entry.value) > 10 then
            raise exception using errcode = '23514',
                message = format('%s must list at most 10 alternate stations', entry.key);
        end if;
        for other in select value from jsonb_array_elements(entry.value) loop
            if jsonb_typeof(other) <> 'string' or (other #>> '{}') !~ '^[a-z0-9_-]{1,40}$' then
                raise exception using errcode = '23514', message = format('%s is not a station name', other);
            end if;
        end loop;
    end loop;
    new.updated_at := now();
    return new;
end $$;
revoke all on function kds.check_load_routing() from public;
grant execute on function kds.check_load_routing() to authenticated, service_role;

create or replace trigger load_routing_10_check before insert or update on public.load_routing
    for each row execute function kds.check_load_routing();

create or replace function kds.route_by_load() returns trigger
language plpgsql set search_path = '' as $$
declare
    stations text[];
    chosen text;
begin
    select array_agg(s order by n) into stations from (
        select s, min(n) as n from (
            select new.station as s, 0::bigint as n
            union all
            select a.s, a.n from public.load_routing r,
                jsonb_array_elements_text(r.alternates -> new.station) with ordinality as a(s, n)
            where r.restaurant_id = new.restaurant_id and r.route_by_load
        ) listed group by s
    ) g;
    if cardinality(stations) < 2 then
        return new;  -- off, or the station has no alternates
    end if;
    -- The order's items of the group stay together.
    select g.s into chosen from unnest(stations) with ordinality as g(s, n)
    where exists (select 1 from public.order_items i
                  where i.order_id = new.order_id and i.station = g.s and i.status <> 'voided')
    order by g.n limit 1;
    if chosen is null then
        select g.s into chosen from unnest(stations) with ordinality as g(s, n)
        order by (select count(*) from public.order_items i join public.orders o on o.id = i.order_id
                  where i.restaurant_id = new.restaurant_id and i.station = g.s and i.status in ('new', 'cooking')
                    and o.status not in ('served', 'cancelled') and o.cleared_at is null), g.n
        limit 1;
    end if;
    new.station := chosen;
    return new;
end $$;
revoke all on function kds.route_by_load() from public;
grant execute on function kds.route_by_load() to authenticated, service_role;

-- After the guard (10): the item is its order's restaurant's. Before fire timing (30) and the stamp (90).
create or replace trigger order_items_15_route_by_load before insert on public.order_items
    for each row execute function kds.route_by_load();
