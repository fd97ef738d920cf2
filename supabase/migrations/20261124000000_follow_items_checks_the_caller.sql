-- kds.follow_items (20261121000000_kds_schema.sql) runs with its owner's rights (SECURITY DEFINER), was
-- executable by every signed-in device, and took any order id: a device of one restaurant could make another
-- restaurant's order follow its items (a status change, with a version and change_seq every screen of that
-- kitchen sees). Its one caller is the order_items_follow trigger, while a POS or admin device writes its own
-- restaurant's items (RLS lets no one else write items), so it now checks exactly that from the JWT: the
-- order is in the caller's restaurant and the caller is a pos or admin device. The service role is trusted,
-- as everywhere. Anything else is 42501, the same whether or not the order exists (no probing for ids).
--
-- The other SECURITY DEFINER functions, reviewed with it (tests/supabase/test_security_definer.py):
-- * public.apply_intents, public.clear_day: the RPCs; each takes the restaurant and role from the JWT and
--   refuses a token without them; revoked from public and anon, granted to authenticated.
-- * kds.clear_day: every restaurant at once; service_role only.
-- * kds.lock_change_counter, kds.stamp_row, kds.log_deleted_row: trigger functions (PostgreSQL refuses to
--   call them directly); revoked from public.
-- Each pins search_path to '' and qualifies every name. Re-applying this file is a no-op.

create or replace function kds.follow_items(p_order_id uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
    claims constant jsonb := auth.jwt();
    meta constant jsonb := claims -> 'app_metadata';
    current_status text;
    order_restaurant text;
    derived text;
begin
    select o.status, o.restaurant_id into current_status, order_restaurant
    from public.orders o where o.id = p_order_id;
    if coalesce(claims ->> 'role', '') <> 'service_role' and (
        order_restaurant is null
        or order_restaurant is distinct from meta ->> 'restaurant_id'
        or coalesce(meta ->> 'device_role', '') not in ('pos', 'admin')
    ) then
        raise exception using errcode = '42501',
            message = 'permission denied: an order follows its items only for its own restaurant''s pos or admin',
            hint = 'Orders follow their items by themselves when a POS or admin device writes them.';
    end if;
    if order_restaurant is null then
        return;
    end if;
    derived := kds.derived_status(current_status, p_order_id);
    if derived is distinct from current_status then
        update public.orders set status = derived where id = p_order_id;
    end if;
end $$;

revoke all on function kds.follow_items(uuid) from public, anon;
grant execute on function kds.follow_items(uuid) to authenticated, service_role;
