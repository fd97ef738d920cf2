-- orders.item_count: how many order_items rows the order has (companion: kds_backend/db/writer.py
-- settle_item_counts, kds_backend/migrations/versions/20261207000900_order_item_count.py).
--
-- An order and its items are separate realtime frames of one commit. A screen holds a commit's frames until it
-- has as many items of each order as the order's item_count says (sync/readpath/commit_groups.py), so a ticket is
-- never painted with lines missing, however the frames are delayed. Every status counts (a void is a status
-- change, not a delete). Kept by STATEMENT-level triggers on order_items, in the writing transaction: an INSERT or
-- DELETE statement (a POS's POST /rest/v1/order_items, a purge, an order's cascade) sets the count of each order
-- it touched where it differs, once per statement, as the server's write (a new version and change_seq through
-- kds.stamp_row, so the order's frame with the count is in the same commit as its items). Not writable by
-- clients (no column grant). Re-applying this file is a no-op.

alter table public.orders add column if not exists item_count integer not null default 0;

-- Backfill: only orders whose count is wrong, so a re-apply writes nothing. Stamped like any write: screens
-- catch the counts up with the orders' next change_seq.
update public.orders o set item_count = c.n
from (select order_id, count(*)::int as n from public.order_items group by order_id) c
where c.order_id = o.id and o.item_count <> c.n;

-- The orders whose items the statement inserted or deleted (`changed_items`, the statement's transition table),
-- recounted. SECURITY DEFINER: the count is the server's, whoever wrote the items (a POS has no grant on it).
create or replace function kds.settle_item_count() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
    update public.orders o set item_count = c.n
    from (
        select t.order_id, (select count(*)::int from public.order_items i where i.order_id = t.order_id) as n
        from (select distinct order_id from changed_items) t
    ) c
    where o.id = c.order_id and o.item_count <> c.n;
    return null;
end $$;
revoke all on function kds.settle_item_count() from public;
grant execute on function kds.settle_item_count() to authenticated, service_role;

-- Two triggers: PostgreSQL allows transition tables on a trigger of one event only. After the row triggers
-- (the follow and the deletion log), so the count lands after the lines it counts.
create or replace trigger order_items_97_item_count_insert after insert on public.order_items
    referencing new table as changed_items for each statement execute function kds.settle_item_count();
create or replace trigger order_items_97_item_count_delete after delete on public.order_items
    referencing old table as changed_items for each statement execute function kds.settle_item_count();
