// The sockplane console: plain browser JavaScript, served as it is (no build step).
// It lists the sockets from GET lists and the event stream, and attaches a WebSocket
// (sockplane.channel.v1, with a one-time ticket) to the one selected.
'use strict';

const CHANNEL = { TO_PEER: 0, FROM_PEER: 1, CONTROL: 2 };
const MAX_ROWS = 2000;
const PATHS = { 'tcp-connection': '/v1/tcp/connections/', 'udp-socket': '/v1/udp/sockets/', 'tcp-listener': '/v1/tcp/listeners/' };

const $ = (selector) => document.querySelector(selector);
const keyField = $('#key');
const socketsList = $('#sockets');
const trafficBody = $('#traffic tbody');
const sendForm = $('#send');
const sockets = new Map();
let selected = null;
let attached = null;
let events = null;

keyField.value = sessionStorage.getItem('sockplane-key') ?? '';
keyField.addEventListener('change', () => {
  sessionStorage.setItem('sockplane-key', keyField.value);
  start();
});

function headers(json) {
  const result = json ? { 'content-type': 'application/json' } : {};
  if (keyField.value !== '') result.authorization = `Bearer ${keyField.value}`;
  return result;
}

async function api(method, path, body) {
  const response = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${answer.code ?? response.status}: ${answer.detail ?? response.statusText}`);
  return answer;
}

function describe(socket) {
  const local = socket.local ? `${socket.local.address}:${socket.local.port}` : '';
  const remote = socket.remote ? ` ⇄ ${socket.remote.address}:${socket.remote.port}` : '';
  return `${socket.kind} ${socket.id} ${local}${remote} · ${socket.state}`;
}

function render() {
  socketsList.replaceChildren(
    ...[...sockets.values()].map((socket) => {
      const item = document.createElement('li');
      if (socket.kind === 'tcp-listener') {
        // Listeners carry no bytes of their own: their accepted connections are listed beside them.
        item.textContent = describe(socket);
        item.className = socket.state === 'closed' ? 'listener closed' : 'listener';
        return item;
      }
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = describe(socket);
      button.dataset.id = socket.id;
      button.className = socket.state === 'closed' ? 'closed' : '';
      button.setAttribute('aria-pressed', String(socket.id === selected?.id));
      button.addEventListener('click', () => select(socket));
      item.append(button);
      return item;
    }),
  );
}

function remember(socket) {
  sockets.set(socket.id, { ...sockets.get(socket.id), ...socket });
  render();
}

async function refresh(id, kind) {
  try {
    remember(await api('GET', PATHS[kind] + id));
  } catch {
    // Gone already (closed and forgotten): the closed event says so.
  }
}

/** Server-Sent Events read through fetch, which, unlike EventSource, can send Authorization. */
async function follow(signal) {
  const status = $('#stream-status');
  const response = await fetch('/v1/events', { headers: headers(false), signal });
  if (!response.ok) {
    status.textContent = `event stream refused (${response.status})`;
    return;
  }
  status.textContent = 'live';
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += value;
    let end;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const block = pending.slice(0, end);
      pending = pending.slice(end + 2);
      const data = block.split('\n').filter((line) => line.startsWith('data:')).map((line) => line.slice(5)).join('\n');
      if (data !== '') onEvent(JSON.parse(data));
    }
  }
  status.textContent = 'event stream ended';
}

function onEvent(event) {
  if (event.type === 'connection.data' || event.type === 'udp.datagram') return;
  if (event.type.endsWith('.closed')) {
    const socket = sockets.get(event.resourceId);
    if (socket) remember({ ...socket, state: 'closed' });
    return;
  }
  void refresh(event.resourceId, event.kind);
}

async function start() {
  events?.abort();
  events = new AbortController();
  sockets.clear();
  try {
    const lists = await Promise.all(['/v1/tcp/listeners', '/v1/tcp/connections', '/v1/udp/sockets'].map((path) => api('GET', path)));
    for (const list of lists) for (const socket of list.items) sockets.set(socket.id, socket);
    render();
    await follow(events.signal);
  } catch (err) {
    if (err.name !== 'AbortError') $('#stream-status').textContent = err.message;
  }
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function row(direction, bytes, note) {
  const tr = document.createElement('tr');
  tr.className = note ? 'note' : direction;
  const cells = [new Date().toISOString().slice(11, 23), direction === 'in' ? '← peer' : direction === 'out' ? '→ peer' : '·', note ? '' : String(bytes.length), note ?? text(bytes), note ? '' : hex(bytes)];
  for (const [index, value] of cells.entries()) {
    const td = document.createElement('td');
    td.textContent = value;
    if (index === 1) td.className = 'dir';
    tr.append(td);
  }
  trafficBody.append(tr);
  while (trafficBody.rows.length > MAX_ROWS) trafficBody.deleteRow(0);
  tr.scrollIntoView({ block: 'nearest' });
}

/** The bytes as text, control characters other than tab and newline shown as `·`. */
function text(bytes) {
  let out = '';
  for (const char of new TextDecoder('utf-8', { fatal: false }).decode(bytes)) {
    const code = char.codePointAt(0);
    out += (code < 32 && code !== 9 && code !== 10) || code === 127 ? '·' : char;
  }
  return out;
}

function hex(bytes) {
  let out = '';
  for (const byte of bytes) out += HEX[byte] + ' ';
  return out.trimEnd();
}

function parseHex(digits) {
  const clean = digits.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error('hex needs pairs of digits 0-9, a-f');
  return Uint8Array.from(clean.match(/../g) ?? [], (pair) => parseInt(pair, 16));
}

/** A received datagram frame (the binary datagram reads' layout): its sender and payload. */
function datagram(frame) {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const addressLength = frame[23];
  const address = new TextDecoder().decode(frame.subarray(24, 24 + addressLength));
  return { sender: `${address}:${view.getUint16(20)}`, payload: frame.subarray(24 + addressLength) };
}

function setControls(enabled) {
  for (const control of [...sendForm.elements, $('#close-socket'), $('#reset-socket')]) control.disabled = !enabled;
}

async function select(socket) {
  attached?.close(1000);
  attached = null;
  selected = socket;
  render();
  trafficBody.replaceChildren();
  $('#selected').textContent = `— ${socket.kind} ${socket.id}`;
  setControls(false);
  try {
    const path = PATHS[socket.kind] + socket.id;
    const { ticket } = await api('POST', `${path}/attach-tickets`, { write: socket.state !== 'closed' });
    const query = new URLSearchParams({ ticket, write: String(socket.state !== 'closed') });
    if (socket.kind === 'tcp-connection') query.set('fromOffset', String(socket.buffer?.oldestOffset ?? 0));
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}/attach?${query}`;
    const ws = new WebSocket(url, 'sockplane.channel.v1');
    ws.binaryType = 'arraybuffer';
    attached = ws;
    ws.addEventListener('open', () => setControls(socket.state !== 'closed'));
    ws.addEventListener('message', (message) => {
      const bytes = new Uint8Array(message.data);
      const body = bytes.subarray(1);
      if (bytes[0] === CHANNEL.FROM_PEER) {
        if (socket.kind === 'udp-socket') {
          const { sender, payload } = datagram(body);
          row('in', payload);
          trafficBody.lastElementChild.title = `from ${sender}`;
        } else {
          row('in', body);
        }
      } else if (bytes[0] === CHANNEL.CONTROL) {
        const notice = JSON.parse(new TextDecoder().decode(body));
        if (notice.type !== 'attached') row('note', body, `${notice.type} ${JSON.stringify({ ...notice, type: undefined })}`);
      }
    });
    ws.addEventListener('close', (event) => {
      if (attached === ws) {
        setControls(false);
        row('note', new Uint8Array(), `detached (${event.code}${event.reason ? ' ' + event.reason : ''})`);
      }
    });
  } catch (err) {
    row('note', new Uint8Array(), err.message);
  }
}

sendForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const form = new FormData(sendForm);
  try {
    let bytes = form.get('encoding') === 'hex' ? parseHex(form.get('data')) : new TextEncoder().encode(form.get('data'));
    if (form.get('newline')) bytes = Uint8Array.from([...bytes, 10]);
    if (selected.kind === 'udp-socket') {
      row('note', bytes, 'UDP sends from the console go to the default peer');
      attached.send(Uint8Array.from([CHANNEL.TO_PEER, 0, 0, 0, ...bytes]));
    } else {
      attached.send(Uint8Array.from([CHANNEL.TO_PEER, ...bytes]));
    }
    row('out', bytes);
    sendForm.elements.data.value = '';
  } catch (err) {
    row('note', new Uint8Array(), err.message);
  }
});

for (const [button, mode] of [['#close-socket', 'graceful'], ['#reset-socket', 'reset']]) {
  $(button).addEventListener('click', async () => {
    if (!selected) return;
    try {
      await api('DELETE', `${PATHS[selected.kind]}${selected.id}${selected.kind === 'tcp-connection' ? `?mode=${mode}` : ''}`);
    } catch (err) {
      row('note', new Uint8Array(), err.message);
    }
  });
}

$('#clear').addEventListener('click', () => trafficBody.replaceChildren());

$('#open-listener').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  $('#form-error').textContent = '';
  try {
    remember(await api('POST', '/v1/tcp/listeners', { host: form.get('host'), port: Number(form.get('port')), labels: { console: 'true' } }));
  } catch (err) {
    $('#form-error').textContent = err.message;
  }
});

void start();
