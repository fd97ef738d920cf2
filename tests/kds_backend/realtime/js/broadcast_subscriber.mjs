// The official Supabase Realtime JS client (default options, vsn 2.0.0) on a restaurant's private Broadcast from
// Database topic, as Supabase's guide subscribes to one: `private: true`, `setAuth` before subscribing, and a
// `broadcast` listener per operation.
// Usage: node broadcast_subscriber.mjs <http base url> <access token> <topic>
// Prints one JSON object per line for every callback.
import { RealtimeClient } from '@supabase/realtime-js'
import WebSocket from 'ws'

const [baseUrl, token, topic] = process.argv.slice(2)
const emit = (kind, data) => process.stdout.write(JSON.stringify({ kind, ...data }) + '\n')

const client = new RealtimeClient(`${baseUrl}/realtime/v1`, { params: { apikey: token }, transport: WebSocket })
await client.setAuth(token)

const channel = client.channel(topic, { config: { private: true } })
for (const event of ['INSERT', 'UPDATE', 'DELETE']) {
  channel.on('broadcast', { event }, (message) => emit('change', { message }))
}
channel.subscribe((status, err) => emit('status', { status, error: err ? String(err) : null }))
