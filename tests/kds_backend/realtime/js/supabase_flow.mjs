// The official @supabase/supabase-js client with its default options, driven through a screen's session
// against the companion. Node 20 has no global WebSocket, so the `ws` package is passed as Realtime's
// transport (the one option set; Node 22+ would not need it).
// Usage: node supabase_flow.mjs <http base url> <anon key>
// Reads one JSON command per line from stdin ({"cmd": ..., ...}) and prints one JSON object per line: the
// command's answer ({"kind": <cmd>, ...}), and every auth event, channel status and change as it comes.
import { createClient } from '@supabase/supabase-js'
import WebSocket from 'ws'
import readline from 'node:readline'

const [baseUrl, anonKey] = process.argv.slice(2)
const emit = (kind, data) => process.stdout.write(JSON.stringify({ kind, ...data }) + '\n')
const failure = (error) => (error ? { code: error.code ?? null, message: error.message } : null)

const supabase = createClient(baseUrl, anonKey, { realtime: { transport: WebSocket } })
supabase.auth.onAuthStateChange((event) => emit('auth', { event }))

let channel = null
let probes = 0

// Resolves once the server has handled every frame sent on the socket so far: a new channel's join reply comes
// after them (a socket's frames are handled in order). `setAuth()` first sends the session's token if the client
// has not yet (it does so on its own on sign-in, sign-out and every heartbeat; on sign-out only after a lookup).
async function settled() {
  await supabase.realtime.setAuth()
  const probe = supabase.channel(`probe-${++probes}`)
  await new Promise((resolve, reject) =>
    probe.subscribe((status, err) => (status === 'SUBSCRIBED' ? resolve() : reject(err ?? new Error(status)))),
  )
  await supabase.removeChannel(probe)
}

const commands = {
  async signIn({ email, password }) {
    const { data, error } = await supabase.auth.signInWithPassword({ email, password })
    return { user: data.user, error: failure(error) }
  },
  async select() {
    const { data, error } = await supabase.from('orders').select('id, number, status, order_items(name, status)')
    return { data, error: failure(error) }
  },
  async rpc({ intents }) {
    const { data, error } = await supabase.rpc('apply_intents', { intents })
    return { data, error: failure(error) }
  },
  async subscribe() {
    channel = supabase
      .channel('orders-feed')
      .on('postgres_changes', { event: '*', schema: 'public', table: 'orders' }, (p) => emit('change', { payload: p }))
      .on('system', {}, (p) => emit('system', { payload: p }))
      .subscribe((status, err) => emit('status', { status, error: err ? String(err) : null }))
    return {}
  },
  async refresh() {
    const before = (await supabase.auth.getSession()).data.session?.access_token
    const { data, error } = await supabase.auth.refreshSession()
    return { changed: Boolean(data.session) && data.session.access_token !== before, error: failure(error) }
  },
  async signOut() {
    const { error } = await supabase.auth.signOut()
    return { error: failure(error) }
  },
  async settled() {
    await settled()
    return { joined: channel?.state ?? null }
  },
  async quit() {
    await supabase.removeAllChannels()
    process.exit(0)
  },
}

const rl = readline.createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  const { cmd, ...args } = JSON.parse(line)
  try {
    emit(cmd, await commands[cmd](args))
  } catch (err) {
    emit(cmd, { thrown: String(err) })
  }
})
