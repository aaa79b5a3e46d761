// The live demo: a plain module, no framework, no build step, nothing but the public API. It keeps
// a local copy of what the user sees with /changes (their tasks, their lists, own and shared, and
// the members of the shared ones), hears about other windows' and other members' edits on /live
// (the token travels as a subprotocol, never in the URL), and writes with the task, list and
// invitation routes. It shows one list at a time.
import { BEARER_PREFIX, CLOSE_EXPIRED, PING, PROTOCOL, parseServerMessage } from "./protocol.js";

const $ = (id) => document.getElementById(id);
/** Every task the user sees, by id; each names its list (list_id), and the page shows one list's. */
const tasks = new Map();
/** Every list the user sees, own and shared, by id, with the user's `role` in it. */
const lists = new Map();
/** The memberships of the shared lists, by id (the owner is the list's user_id, not one of them). */
const members = new Map();
let token = sessionStorage.getItem("task-api-token") ?? "";
let userId = "";
/** The list shown: the Inbox until the user picks another. */
let listId;
let cursor;
let socket;
let retry = 0;
let pulling = Promise.resolve();

/** The token's subject: whose tasks these are (the API checks the token; this only reads it). */
function subjectOf(jwt) {
  const payload = jwt.split(".")[1] ?? "";
  const json = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0)))).sub;
}

function showError(problem) {
  const error = $("error");
  error.textContent = problem ? `${problem.detail ?? problem} (${problem.code ?? "error"})` : "";
  error.hidden = !problem;
}

function setStatus(state, text) {
  $("status").dataset.state = state;
  $("status").textContent = text;
}

async function api(path, init = {}) {
  const response = await fetch(`/api/${encodeURIComponent(userId)}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${token}`, ...(init.body ? { "Content-Type": "application/json" } : {}) },
  });
  if (response.status === 204) return undefined;
  const body = await response.json();
  if (!response.ok) throw body;
  return body;
}

/** The Inbox first, then the user's own lists, then those shared with them; order keys compare byte by byte. */
function byPlace(a, b) {
  const rank = (list) => (list.inbox ? 0 : list.role === "owner" ? 1 : 2);
  return rank(a) - rank(b) || (a.position < b.position ? -1 : a.position > b.position ? 1 : a.id - b.id);
}

function renderLists() {
  const ordered = [...lists.values()].sort(byPlace);
  if (!lists.has(listId)) listId = ordered[0]?.id;
  $("list").replaceChildren(
    ...ordered.map((list) => {
      const option = document.createElement("option");
      option.value = String(list.id);
      option.textContent = list.shared ? `${list.name} (shared, ${list.role})` : list.name;
      option.selected = list.id === listId;
      return option;
    }),
  );
  const list = lists.get(listId);
  $("role").textContent = list === undefined ? "" : list.role === "viewer" ? "viewer: read only" : list.role;
  $("role").dataset.role = list?.role ?? "";
  // Only the owner invites, and an Inbox is never shared.
  $("invite").hidden = list === undefined || list.role !== "owner" || list.inbox;
  const others = [...members.values()].filter((member) => member.list_id === listId).sort((a, b) => a.id - b.id);
  $("members").hidden = list === undefined || !list.shared;
  const who = (id, role) => `${id === userId ? "you" : id} (${role})`;
  $("members").textContent =
    list === undefined ? "" : `Members: ${[who(list.user_id, "owner"), ...others.map((m) => who(m.user_id, m.role))].join(", ")}`;
}

function renderTasks() {
  const shown = [...tasks.values()].filter((task) => listId === undefined || task.list_id === listId);
  $("tasks").replaceChildren(
    ...shown
      .sort((a, b) => a.id - b.id)
      .map((task) => {
        const item = document.createElement("li");
        item.dataset.id = String(task.id);
        item.className = task.completed ? "done" : "";
        const done = document.createElement("input");
        done.type = "checkbox";
        done.checked = task.completed;
        done.setAttribute("aria-label", `complete ${task.title}`);
        done.addEventListener("change", () =>
          write(`/tasks/${task.id}/complete`, { method: "PATCH", body: JSON.stringify({ completed: done.checked }) }),
        );
        const title = document.createElement("span");
        title.className = "title";
        title.textContent = task.title;
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Delete";
        remove.addEventListener("click", () => write(`/tasks/${task.id}`, { method: "DELETE" }));
        item.append(done, title);
        if (task.created_by && task.created_by !== userId) {
          const by = document.createElement("span");
          by.className = "by";
          by.textContent = `by ${task.created_by}`;
          item.append(by);
        }
        item.append(remove);
        return item;
      }),
  );
  $("empty").hidden = shown.length > 0;
}

function render() {
  renderLists();
  renderTasks();
}

/** Applies a page's entries of one kind ({op:"upsert", [field]: …} or {op:"delete", id}) to `into`. */
function apply(into, entries, field) {
  for (const entry of entries ?? []) {
    if (entry.op === "upsert") into.set(entry[field].id, entry[field]);
    else into.delete(entry.id);
  }
}

/** Pulls /changes from our cursor until nothing more follows; from the start again if the cursor expired. */
async function catchUp() {
  try {
    for (;;) {
      const page = await api(`/changes${cursor === undefined ? "" : `?since=${cursor}`}`);
      apply(tasks, page.changes, "task");
      apply(lists, page.lists, "list");
      apply(members, page.members, "member");
      cursor = page.cursor;
      if (!page.has_more) break;
    }
    render();
  } catch (problem) {
    if (problem?.code !== "cursor_expired") return showError(problem);
    // Not through pull(): this runs inside the queue, and would wait for itself.
    forget();
    return catchUp();
  }
}

/** One pull at a time, in order. */
function pull() {
  pulling = pulling.then(catchUp);
  return pulling;
}

/** Drops the local copy, to sync again from the start. */
function forget() {
  tasks.clear();
  lists.clear();
  members.clear();
  cursor = undefined;
}

/**
 * A write, answering its response's body (undefined when it failed: the error shows its problem);
 * our own copy catches up through /changes like everyone else's.
 */
async function write(path, init) {
  let body;
  try {
    showError(undefined);
    body = await api(path, init);
  } catch (problem) {
    showError(problem);
  }
  await pull();
  return body;
}

/** Shows `id` (a list the user sees, or will once the feed has it). */
function show(id) {
  listId = id;
  $("invitation").hidden = true;
  render();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/api/${encodeURIComponent(userId)}/live`, [PROTOCOL, `${BEARER_PREFIX}${token}`]);
  const current = socket;
  let keepAlive;
  socket.addEventListener("open", () => {
    retry = 0;
    setStatus("live", "live");
    // One at once, then every 30 s: a socket that has sent a frame ends at once when the server
    // closes it (docs/sync.md "When the server closes a socket").
    current.send(PING);
    keepAlive = setInterval(() => current.send(PING), 30_000);
  });
  socket.addEventListener("message", (event) => {
    const message = parseServerMessage(event.data);
    if (message?.type === "ready" || message?.type === "changed") pull();
    if (message?.type === "expired") showError({ detail: "the token expired: paste a new one", code: "token_invalid" });
  });
  socket.addEventListener("close", (event) => {
    clearInterval(keepAlive);
    if (current !== socket || !token) return;
    setStatus("offline", event.code === CLOSE_EXPIRED ? "token expired" : "offline, reconnecting…");
    if (event.code === CLOSE_EXPIRED) return;
    retry = Math.min(retry + 1, 6);
    setTimeout(connect, 250 * 2 ** retry);
  });
}

async function start() {
  try {
    userId = subjectOf(token);
  } catch {
    showError({ detail: "that is not a JWT", code: "token_invalid" });
    return;
  }
  sessionStorage.setItem("task-api-token", token);
  $("sign-in").hidden = true;
  $("app").hidden = false;
  setStatus("offline", `connecting as ${userId}…`);
  forget();
  listId = undefined;
  $("invitation").hidden = true;
  await pull();
  connect();
}

$("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  start();
});

$("list").addEventListener("change", () => show(Number($("list").value)));

$("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const title = $("title").value.trim();
  if (!title) return;
  $("title").value = "";
  await write("/tasks", { method: "POST", body: JSON.stringify(listId === undefined ? { title } : { title, list_id: listId }) });
});

$("new-list").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("list-name").value.trim();
  if (!name) return;
  const list = await write("/lists", { method: "POST", body: JSON.stringify({ name }) });
  if (list === undefined) return;
  $("list-name").value = "";
  show(list.id);
});

$("invite").addEventListener("submit", async (event) => {
  event.preventDefault();
  const role = $("invite-role").value;
  const invitation = await write(`/lists/${listId}/invitations`, { method: "POST", body: JSON.stringify({ role }) });
  if (invitation === undefined) return;
  $("invitation-token").value = invitation.token;
  $("invitation").hidden = false;
  $("invitation-token").select();
});

$("invitation-token").addEventListener("focus", () => $("invitation-token").select());

$("accept").addEventListener("submit", async (event) => {
  event.preventDefault();
  const invitation = $("accept-token").value.trim();
  if (!invitation) return;
  const list = await write("/invitations/accept", { method: "POST", body: JSON.stringify({ token: invitation }) });
  if (list === undefined) return;
  $("accept-token").value = "";
  show(list.id);
});

$("sign-out").addEventListener("click", () => {
  token = "";
  sessionStorage.removeItem("task-api-token");
  socket?.close(1000, "signed out");
  $("sign-in").hidden = false;
  $("app").hidden = true;
  setStatus("signed-out", "Paste a token to start.");
});

if (token) start();
