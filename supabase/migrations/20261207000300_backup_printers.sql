-- Backup printers (issue 19 item 3; companion: kds_backend/printing, kds_backend/db/tables.py station_printers,
-- kds_backend/migrations/versions/20261207000300_backup_print.py).
--
-- * public.station_printers: a station's ESC/POS network printer (host, port 9100), where its new and changed
--   tickets print while none of its screens is online. Every device of the restaurant reads it; only an admin
--   device names, changes or removes one (RLS from app_metadata, like the other tables).
-- * order_items.printed_at: when the station's backup printer last printed the item as it is, so a screen that
--   comes back shows which tickets went to paper. Written by the printing service only (no column grant).
--
-- The printing itself needs a process on the kitchen's network that watches Realtime presence and reaches the
-- printer: the companion (kds-backend serve) does it; against Supabase, run it as a kitchen hub in front of the
-- project (left for later: a hub does not print yet). Re-applying this file is a no-op.

alter table public.order_items add column if not exists printed_at timestamptz;

create table if not exists public.station_printers (
    restaurant_id varchar(64) not null default (auth.jwt() -> 'app_metadata' ->> 'restaurant_id'),
    station varchar(40) not null check (station ~ '^[a-z0-9_-]{1,40}$'),
    host varchar(253) not null check (length(host) > 0),
    port integer not null default 9100 check (port between 1 and 65535),
    updated_at timestamptz not null default now(),
    primary key (restaurant_id, station)
);

revoke all on public.station_printers from public, anon, authenticated, service_role;
grant select, delete on public.station_printers to authenticated;
grant insert (restaurant_id, station, host, port), update (host, port) on public.station_printers to authenticated;
grant all on public.station_printers to service_role;

alter table public.station_printers enable row level security;

do $$
declare
    own text := $p$restaurant_id = (select auth.jwt() -> 'app_metadata' ->> 'restaurant_id')$p$;
    any_device text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('kds', 'expo', 'pos', 'admin')$p$;
    admin text := $p$(select auth.jwt() -> 'app_metadata' ->> 'device_role') = 'admin'$p$;
    p record;
begin
    for p in
        select * from (values
            ('station_printers_select', 'select', format('%s and %s', own, any_device), null),
            ('station_printers_insert', 'insert', null, format('%s and %s', own, admin)),
            ('station_printers_update', 'update', format('%s and %s', own, admin), format('%s and %s', own, admin)),
            ('station_printers_delete', 'delete', format('%s and %s', own, admin), null)
        ) as t(name, cmd, using_expr, check_expr)
    loop
        if not exists (select 1 from pg_policies where schemaname = 'public' and tablename = 'station_printers'
                       and policyname = p.name) then
            execute format('create policy %I on public.station_printers for %s to authenticated%s%s', p.name, p.cmd,
                coalesce(' using (' || p.using_expr || ')', ''), coalesce(' with check (' || p.check_expr || ')', ''));
        end if;
    end loop;
end $$;

-- updated_at is the server's: stamped on every update.
create or replace function kds.stamp_station_printer() returns trigger
language plpgsql set search_path = '' as $$
begin
    new.updated_at := now();
    return new;
end $$;
revoke all on function kds.stamp_station_printer() from public;
grant execute on function kds.stamp_station_printer() to authenticated, service_role;

create or replace trigger station_printers_90_stamp before insert or update on public.station_printers
    for each row execute function kds.stamp_station_printer();
