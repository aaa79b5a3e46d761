// The live demo: a plain module, no framework, no build step, nothing but the public API. It keeps
// a local copy of the user's tasks with /changes, hears about other windows' edits on /live (the
// token travels as a subprotocol, never in the URL), and writes with the task routes.
import { BEARER_PREFIX, CLOSE_EXPIRED, PING, PROTOCOL, parseServerMessage } from "./protocol.js";

const $ = (id) => document.getElementById(id);
const tasks = new Map();
let token = sessionStorage.getItem("task-api-token") ?? "";
let userId = "";
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

function render() {
  const list = $("tasks");
  list.replaceChildren(
    ...[...tasks.values()]
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
        item.append(done, title, remove);
        return item;
      }),
  );
  $("empty").hidden = tasks.size > 0;
}

/** Pulls /changes from our cursor until nothing more follows (one pull at a time). */
function pull() {
  pulling = pulling.then(async () => {
    try {
      for (;;) {
        const page = await api(`/changes${cursor === undefined ? "" : `?since=${cursor}`}`);
        for (const change of page.changes) {
          if (change.op === "upsert") tasks.set(change.task.id, change.task);
          else tasks.delete(change.id);
        }
        cursor = page.cursor;
        if (!page.has_more) break;
      }
      render();
    } catch (problem) {
      if (problem?.code === "cursor_expired") {
        tasks.clear();
        cursor = undefined;
        return pull();
      }
      showError(problem);
    }
  });
  return pulling;
}

/** A write; our own copy catches up through /changes like everyone else's. */
async function write(path, init) {
  try {
    showError(undefined);
    await api(path, init);
  } catch (problem) {
    showError(problem);
  }
  await pull();
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  socket = new WebSocket(`${scheme}//${location.host}/api/${encodeURIComponent(userId)}/live`, [PROTOCOL, `${BEARER_PREFIX}${token}`]);
  const current = socket;
  let keepAlive;
  socket.addEventListener("open", () => {
    retry = 0;
    setStatus("live", "live");
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
  tasks.clear();
  cursor = undefined;
  await pull();
  connect();
}

$("sign-in").addEventListener("submit", (event) => {
  event.preventDefault();
  token = $("token").value.trim();
  start();
});

$("add").addEventListener("submit", async (event) => {
  event.preventDefault();
  const title = $("title").value.trim();
  if (!title) return;
  $("title").value = "";
  await write("/tasks", { method: "POST", body: JSON.stringify({ title }) });
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
