-- The server's data-path heartbeat (issue 19, item 7): every 5 s, each restaurant's screens get a broadcast
-- `kds_heartbeat` on their sync channel, from the database. A Phoenix heartbeat reply proves only the socket;
-- this proves that what the database sends still reaches the screen. A screen that hears none for 10 s while
-- its socket looks fine says so, catches up over REST and reconnects (sync/realtime/watchdog.py). Screens of
-- a project without this migration never hear one and simply never arm that alarm.
--
-- Sent with `realtime.send` (Broadcast from Database's own path, through `realtime.messages`) into both topics
-- a screen may use: the public `postgres_changes` channel `kds-<restaurant_id>` and the private topic
-- `kds:<restaurant_id>` (readable by the restaurant's devices through the policy of ..._broadcast_from_database).
-- The companion sends the same event into the same topics (kds_backend/realtime/server.py).
--
-- pg_cron runs `kds.heartbeat()` every 5 seconds (pg_cron 1.5 or later; Supabase ships it: enable the
-- extension under Database > Extensions, then re-run this file or the `cron.schedule` line below).
-- Re-applying this file is a no-op.

create schema if not exists kds;

-- The restaurants to beat for: every restaurant that has had an order, noted as its first order arrives.
create table if not exists kds.heartbeats (
    restaurant_id varchar(64) primary key,
    beat_at timestamptz
);
revoke all on kds.heartbeats from public, anon, authenticated;
insert into kds.heartbeats (restaurant_id) select distinct restaurant_id from public.orders on conflict do nothing;

create or replace function kds.note_heartbeat_restaurant() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    insert into kds.heartbeats (restaurant_id) values (new.restaurant_id) on conflict do nothing;
    return null;
end $$;
revoke all on function kds.note_heartbeat_restaurant() from public;

do $$
begin
    if not exists (select 1 from pg_trigger
                   where tgname = 'note_heartbeat_restaurant' and tgrelid = 'public.orders'::regclass) then
        create trigger note_heartbeat_restaurant after insert on public.orders
            for each row execute function kds.note_heartbeat_restaurant();
    end if;
end $$;

-- One beat: a broadcast per restaurant and topic. Returns how many restaurants it beat for (what pg_cron logs).
create or replace function kds.heartbeat() returns integer
language plpgsql security definer set search_path = '' as $$
declare
    r record;
    n integer := 0;
begin
    for r in update kds.heartbeats set beat_at = now() returning restaurant_id, beat_at loop
        perform realtime.send(jsonb_build_object('at', extract(epoch from r.beat_at)), 'kds_heartbeat',
                              'kds-' || r.restaurant_id, false);
        perform realtime.send(jsonb_build_object('at', extract(epoch from r.beat_at)), 'kds_heartbeat',
                              'kds:' || r.restaurant_id, true);
        n := n + 1;
    end loop;
    return n;
end $$;
revoke all on function kds.heartbeat() from public, anon, authenticated;

do $$
begin
    if exists (select 1 from pg_extension where extname = 'pg_cron') then
        -- A named job: scheduling it again replaces it.
        perform cron.schedule('kds-heartbeat', '5 seconds', 'select kds.heartbeat()');
    else
        raise notice 'pg_cron is not enabled: screens hear no server heartbeat until it is and this file is re-run';
    end if;
end $$;
