"""A screen's own ESC/POS printer (issue 19 item 3): when the screen has reached no server for a while, the kitchen
is on paper, and the tickets it shows go on its printer, each once. `decision` says when and which (sans-I/O),
`printed` remembers what went out (a file beside the store), `own_printer` sends the slips (api_client/escpos)."""
