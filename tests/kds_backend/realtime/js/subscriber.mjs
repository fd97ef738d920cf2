// The official Supabase Realtime JS client, with its default options (vsn 2.0.0), against the companion.
// Node 20 has no global WebSocket, so the `ws` package is passed as the transport (Node 22+ would not need it).
// Usage: node subscriber.mjs <http base url> <access token> <presence key>
// Prints one JSON object per line for every callback; reads commands ("broadcast", "quit") from stdin.
import { RealtimeClient } from '@supabase/realtime-js'
import WebSocket from 'ws'
import readline from 'node:readline'

const [baseUrl, token, presenceKey] = process.argv.slice(2)
const emit = (kind, data) => process.stdout.write(JSON.stringify({ kind, ...data }) + '\n')

const client = new RealtimeClient(`${baseUrl}/realtime/v1`, {
  params: { apikey: token },
  transport: WebSocket,
})
client.setAuth(token)
emit('vsn', { vsn: client.vsn })

const channel = client.channel('orders-feed', {
  config: { presence: { key: presenceKey }, broadcast: { self: true, ack: true } },
})
channel
  .on('postgres_changes', { event: '*', schema: 'public', table: 'orders', filter: 'restaurant_id=eq.r1' }, (p) =>
    emit('change', { payload: p }),
  )
  .on('postgres_changes', { event: '*', schema: 'public', table: 'order_items', filter: 'restaurant_id=eq.r1' }, (p) =>
    emit('change', { payload: p }),
  )
  .on('system', {}, (p) => emit('system', { payload: p }))
  .on('presence', { event: 'sync' }, () => emit('presence', { state: channel.presenceState() }))
  .on('broadcast', { event: 'ping' }, (p) => emit('broadcast', { payload: p }))
  .subscribe(async (status, err) => {
    emit('status', { status, error: err ? String(err) : null })
    if (status === 'SUBSCRIBED') {
      emit('track', { result: await channel.track({ screen: presenceKey }) })
    }
  })

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  if (line === 'broadcast') {
    emit('sent', { result: await channel.send({ type: 'broadcast', event: 'ping', payload: { n: 1 } }) })
  } else if (line === 'quit') {
    await client.removeAllChannels()
    process.exit(0)
  }
})
