"""Backup printing (issue 19 item 3): a station's tickets on its ESC/POS network printer while none of its screens
is online.

`slip` turns an order's rows into a slip and the slip into ESC/POS bytes; `jobs` queues and marks print jobs in the
database; `presence` reads which stations have a screen online from Realtime presence; `worker` ties them together
in the app's lifespan and `transport` moves the bytes to the printer's TCP port.
"""
