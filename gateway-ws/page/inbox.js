// The in-app inbox page of the gateway: signs in with a user's JWT, holds one WebSocket to this
// gateway's /ws (the frames of proto/platform/notification/gateway/v1/frames.proto, as JSON),
// shows the inbox newest first, and sends acks and reads. The token is kept in sessionStorage
// (this tab only, never the URL), and message content is only ever set as text, never as markup.

const SUBPROTOCOL = "notification.v1";
const TOKEN_KEY = "notification-inbox.token";
// After each failed connection the page waits twice as long, up to the maximum, with jitter
// so that the clients of a gateway that went away do not all come back at the same moment.
const FIRST_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;
// The most seqs one Read frame may carry.
const READ_BATCH = 500;
// Closes after which the same token cannot get in again (unauthenticated, expired, not a
// user's): the page signs out instead of retrying.
const TOKEN_REFUSED = new Set([4001, 4002, 4003]);

const $ = (id) => document.getElementById(id);
const view = {
  badge: $("badge"),
  state: $("state"),
  signOut: $("sign-out"),
  signIn: $("sign-in"),
  token: $("token"),
  signInError: $("sign-in-error"),
  inbox: $("inbox"),
  who: $("who"),
  markAll: $("mark-all"),
  notice: $("notice"),
  empty: $("empty"),
  messages: $("messages"),
  item: $("message-item"),
};

/** What the page knows of the inbox: the messages it was sent, by seq, and the unread count. */
const inbox = {
  messages: new Map(),
  unread: 0,
  // Ready's headSeq: a message after it came in since, so the unread count does not hold it yet.
  headSeq: 0,
  highestSeq: 0,
  ackedSeq: 0,
};

const connection = {
  socket: undefined,
  // Frames other than Auth may be sent only once Ready came back.
  ready: false,
  backoffMs: FIRST_BACKOFF_MS,
  // Set by a Reconnect frame: the gateway says when to come back.
  redirectMs: undefined,
  retryTimer: undefined,
  heartbeatTimer: undefined,
  lastHeardAt: 0,
};

let renderPending = false;

function start() {
  view.signIn.addEventListener("submit", (event) => {
    event.preventDefault();
    signIn(view.token.value.trim());
  });
  view.signOut.addEventListener("click", () => signOut());
  view.markAll.addEventListener("click", () => markRead(unreadSeqs()));
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) {
    showInbox();
    connect();
  } else {
    showSignIn();
  }
}

function signIn(token) {
  if (!/^[\w-]+\.[\w-]+\.[\w-]+$/.test(token)) {
    showSignIn("That is not a JWT: three base64url parts separated by dots.");
    return;
  }
  sessionStorage.setItem(TOKEN_KEY, token);
  view.token.value = "";
  showInbox();
  connect();
}

function signOut(reason) {
  sessionStorage.removeItem(TOKEN_KEY);
  disconnect();
  inbox.messages.clear();
  Object.assign(inbox, { unread: 0, headSeq: 0, highestSeq: 0, ackedSeq: 0 });
  setState("signed-out", "Signed out");
  showSignIn(reason);
}

function showSignIn(error) {
  view.signIn.hidden = false;
  view.inbox.hidden = true;
  view.signOut.hidden = true;
  view.badge.hidden = true;
  view.signInError.hidden = !error;
  view.signInError.textContent = error ?? "";
  view.token.focus();
}

function showInbox() {
  view.signIn.hidden = true;
  view.inbox.hidden = false;
  view.signOut.hidden = false;
  view.who.textContent = "";
  showNotice("");
  render();
}

function connect() {
  clearTimeout(connection.retryTimer);
  setState("connecting", "Connecting…");
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws`, SUBPROTOCOL);
  connection.socket = socket;
  connection.ready = false;
  socket.addEventListener("open", () => {
    // Resumes after the highest seq this page holds: the gateway sends what came after it.
    const token = sessionStorage.getItem(TOKEN_KEY) ?? "";
    socket.send(JSON.stringify({ auth: { token, since: String(inbox.highestSeq) } }));
  });
  socket.addEventListener("message", (event) => {
    if (socket !== connection.socket) return;
    connection.lastHeardAt = Date.now();
    onFrame(JSON.parse(event.data));
  });
  socket.addEventListener("close", (event) => {
    if (socket === connection.socket) onClose(event);
  });
}

/** Closes the socket for good: its events are no longer listened to. */
function disconnect() {
  clearTimeout(connection.retryTimer);
  clearInterval(connection.heartbeatTimer);
  const socket = connection.socket;
  connection.socket = undefined;
  connection.ready = false;
  socket?.close(1000);
}

function onFrame(frame) {
  if (frame.ready) {
    connection.ready = true;
    inbox.unread = frame.ready.unread;
    inbox.headSeq = Number(frame.ready.headSeq);
    view.who.textContent = `Signed in as user ${frame.ready.userId}`;
    startHeartbeat(frame.ready.heartbeatIntervalMs);
    setState("connecting", "Catching up…");
  } else if (frame.message) {
    receive(frame.message);
  } else if (frame.caughtUp) {
    connection.backoffMs = FIRST_BACKOFF_MS;
    setState("live", "Live");
  } else if (frame.changed) {
    applyChange(frame.changed);
  } else if (frame.reconnect) {
    connection.redirectMs = frame.reconnect.afterMs;
  } else if (frame.error) {
    showNotice(`The gateway refused a request: ${frame.error.message}`);
  }
  scheduleRender();
}

function onClose(event) {
  clearInterval(connection.heartbeatTimer);
  connection.socket = undefined;
  connection.ready = false;
  if (TOKEN_REFUSED.has(event.code)) {
    signOut(`The gateway refused the token: ${event.reason || `close code ${event.code}`}.`);
    return;
  }
  reconnectLater();
}

function reconnectLater() {
  let delay = connection.redirectMs;
  connection.redirectMs = undefined;
  if (delay === undefined) {
    delay = connection.backoffMs * (0.5 + Math.random() / 2);
    connection.backoffMs = Math.min(connection.backoffMs * 2, MAX_BACKOFF_MS);
  }
  setState("reconnecting", `Reconnecting in ${Math.ceil(delay / 1000)} s…`);
  render();
  connection.retryTimer = setTimeout(connect, delay);
}

/**
 * Browsers cannot see the gateway's WebSocket pings, so the page pings with frames: when
 * nothing at all came for two intervals, the line is taken as dead and the page reconnects.
 */
function startHeartbeat(intervalMs) {
  clearInterval(connection.heartbeatTimer);
  connection.lastHeardAt = Date.now();
  connection.heartbeatTimer = setInterval(() => {
    if (Date.now() - connection.lastHeardAt > 2 * intervalMs) {
      disconnect();
      reconnectLater();
      return;
    }
    send({ ping: { nonce: String(Date.now()) } });
  }, intervalMs);
}

function send(frame) {
  const { socket, ready } = connection;
  if (!ready || socket?.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

function receive(message) {
  const seq = Number(message.seq);
  if (seq <= inbox.highestSeq) return;
  inbox.highestSeq = seq;
  if (message.archiveTime) return;
  const read = Boolean(message.readTime);
  inbox.messages.set(seq, {
    seq,
    title: message.title,
    body: message.body,
    createTime: message.createTime,
    read,
  });
  if (seq > inbox.headSeq && !read) inbox.unread++;
}

const CHANGES = {
  INBOX_CHANGE_READ: (seq) => setRead(seq, true),
  INBOX_CHANGE_UNREAD: (seq) => setRead(seq, false),
  INBOX_CHANGE_ARCHIVED: (seq) => inbox.messages.delete(seq),
};

function applyChange({ seqs, change, unread }) {
  const apply = CHANGES[change];
  if (apply) for (const seq of seqs) apply(Number(seq));
  inbox.unread = unread;
}

function setRead(seq, read) {
  const message = inbox.messages.get(seq);
  if (message) message.read = read;
}

function unreadSeqs() {
  return [...inbox.messages.values()].filter((message) => !message.read).map((message) => message.seq);
}

/**
 * Shown as read at once; the gateway's Changed frame brings the unread count. A message read
 * already on another device changes nothing there, and no frame comes back for it.
 */
function markRead(seqs) {
  for (let from = 0; from < seqs.length; from += READ_BATCH) {
    const batch = seqs.slice(from, from + READ_BATCH);
    if (!send({ read: { seqs: batch.map(String) } })) return;
    for (const seq of batch) setRead(seq, true);
  }
  render();
}

function scheduleRender() {
  if (renderPending) return;
  renderPending = true;
  // A resume brings many frames at once: the list is drawn once for all of them.
  setTimeout(() => {
    renderPending = false;
    render();
  }, 0);
}

function render() {
  const ready = connection.ready;
  view.badge.hidden = view.inbox.hidden;
  view.badge.textContent = String(inbox.unread);
  view.badge.classList.toggle("none", inbox.unread === 0);
  view.badge.title = `${inbox.unread} unread`;
  const messages = [...inbox.messages.values()].sort((a, b) => b.seq - a.seq);
  view.messages.replaceChildren(...messages.map((message) => messageItem(message, ready)));
  view.empty.hidden = messages.length > 0;
  view.markAll.disabled = !ready || !messages.some((message) => !message.read);
  acknowledge();
}

function messageItem(message, ready) {
  const item = view.item.content.firstElementChild.cloneNode(true);
  item.dataset.seq = String(message.seq);
  item.classList.toggle("unread", !message.read);
  // A template may have no subject: the heading then keeps its placeholder.
  if (message.title) item.querySelector(".title").textContent = message.title;
  item.querySelector(".body").textContent = message.body;
  const time = item.querySelector(".time");
  time.dateTime = message.createTime;
  time.textContent = new Date(message.createTime).toLocaleString("en-GB", {
    dateStyle: "medium",
    timeStyle: "short",
  });
  const button = item.querySelector(".mark-read");
  button.disabled = !ready;
  button.addEventListener("click", () => markRead([message.seq]));
  return item;
}

/** Tells the gateway this device holds every message up to the highest drawn: they count as delivered. */
function acknowledge() {
  if (inbox.highestSeq <= inbox.ackedSeq) return;
  if (send({ ack: { seq: String(inbox.highestSeq) } })) inbox.ackedSeq = inbox.highestSeq;
}

function setState(state, text) {
  view.state.dataset.state = state;
  view.state.textContent = text;
}

function showNotice(text) {
  view.notice.hidden = !text;
  view.notice.textContent = text;
}

start();
