-- Transfer, the "moved from" mark (issue 19 item 2; companion: api_client/order_machine.py moved_from,
-- kds_backend/migrations/versions/20261207000800_moved_from.py).
--
-- order_items.moved_from: the station the item was sent to while a transfer has it at another one, so the
-- receiving card marks it "← GRILL"; kept through further moves (the grill's burger at the fry, then at the
-- flat-top, is still the grill's), null again once it is back. Set by a trigger on a change of station, so
-- kds.order_intent's transfer branch needs no change: clients cannot change an item's station (no column grant),
-- only apply_intents does. A new line starts unmoved. Not writable by clients (no column grant). tests/
-- intent_cases.py checks it here and on the companion. Re-applying this file is a no-op.

alter table public.order_items add column if not exists moved_from varchar(40);

create or replace function kds.mark_moved_from() returns trigger
language plpgsql set search_path = '' as $$
declare
    origin text;
begin
    if tg_op = 'INSERT' then
        new.moved_from := null;
        return new;
    end if;
    if new.station is not distinct from old.station then
        new.moved_from := old.moved_from;
        return new;
    end if;
    origin := coalesce(old.moved_from, old.station);
    new.moved_from := case when origin = new.station then null else origin end;
    return new;
end $$;
revoke all on function kds.mark_moved_from() from public;
grant execute on function kds.mark_moved_from() to authenticated, service_role;

-- After the guard (10), the done time (20) and fire timing (30), before the stamp (90).
create or replace trigger order_items_40_moved_from before insert or update on public.order_items
    for each row execute function kds.mark_moved_from();
