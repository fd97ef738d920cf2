-- Broadcast from Database (issue 17, item 14): every row change of the synced tables also goes to its
-- restaurant's private Realtime topic, `kds:<restaurant_id>`, through Supabase's `realtime.broadcast_changes`
-- (event: the operation; payload: {operation, schema, table, record, old_record} and the message's id).
--
-- Why: `postgres_changes` is checked against RLS for every subscriber, on one thread per database (Supabase's
-- figures: 30-64 changes/s, p95 184-282 ms at 500 clients). Supabase's advice past a few thousand subscribers is
-- this: one insert into `realtime.messages` per change, fanned out by Realtime to the joined channels, and
-- authorised once per join by the RLS policy below. Screens choose it with their `realtime` setting
-- (`broadcast`); `postgres_changes` keeps working, the publication is untouched.
--
-- Who may read: exactly the devices of the topic's restaurant (app_metadata.restaurant_id and a device_role,
-- which only the service role can set), on a private channel. The policy also lets them use Presence on it
-- (screens tell the server they are online). Nobody but the database writes broadcasts on these topics: no
-- insert policy for `broadcast`, so no device can pass a made-up row change to the other screens.
-- Re-applying this file is a no-op.

-- A trigger function (PostgreSQL refuses to call it directly). SECURITY DEFINER because the row's writer may be
-- a device (a POS inserting an order over the Data API): `realtime.messages` has no insert policy for it, and
-- `realtime.send` turns a refused insert into a mere warning, so the broadcast would be lost without a word.
create or replace function kds.broadcast_row_change() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    perform realtime.broadcast_changes(
        'kds:' || coalesce(new.restaurant_id, old.restaurant_id),
        tg_op,
        tg_op,
        tg_table_name,
        tg_table_schema,
        new,
        old
    );
    return null;
end $$;
revoke all on function kds.broadcast_row_change() from public;

do $$
declare
    t text;
begin
    foreach t in array array['orders', 'order_items', 'menu_availability'] loop
        if not exists (select 1 from pg_trigger
                       where tgname = 'broadcast_changes' and tgrelid = format('public.%I', t)::regclass) then
            execute format('create trigger broadcast_changes after insert or update or delete on public.%I '
                           'for each row execute function kds.broadcast_row_change()', t);
        end if;
    end loop;
end $$;

do $$
declare
    own_topic text := $p$(select realtime.topic()) = 'kds:' || (select auth.jwt() -> 'app_metadata' ->> 'restaurant_id')
        and realtime.messages.topic = (select realtime.topic())
        and (select auth.jwt() -> 'app_metadata' ->> 'device_role') in ('kds', 'expo', 'pos', 'admin')$p$;
begin
    if not exists (select 1 from pg_policies where schemaname = 'realtime' and tablename = 'messages'
                   and policyname = 'kds_devices_read_their_restaurant') then
        execute format('create policy kds_devices_read_their_restaurant on realtime.messages for select '
                       'to authenticated using (realtime.messages.extension in (''broadcast'', ''presence'') and %s)',
                       own_topic);
    end if;
    if not exists (select 1 from pg_policies where schemaname = 'realtime' and tablename = 'messages'
                   and policyname = 'kds_devices_track_presence') then
        execute format('create policy kds_devices_track_presence on realtime.messages for insert '
                       'to authenticated with check (realtime.messages.extension = ''presence'' and %s)',
                       own_topic);
    end if;
end $$;
