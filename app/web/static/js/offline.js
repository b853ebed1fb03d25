/* bihuan offline drafts (README "Offline drafts").
 *
 * Every form marked data-offline-form is sent by this script instead of the browser:
 * 1. the submission becomes a draft in IndexedDB first (fields, the original photo files, its
 *    label, time, target URL, the signed-in user) with its own Idempotency-Key;
 * 2. it is POSTed with that key. On success (the 303 to the hazard page) the draft is deleted
 *    and the browser follows to the page. Without a network the draft stays and #outbox-status
 *    lists it; it is sent when the connection returns (the online event, any page load, the
 *    retry button). The server does a key's work once, so a draft whose answer was lost on the
 *    way is never reported twice;
 * 3. a refusal (4xx) keeps the draft and shows why; a 403 or an ended session asks to sign in
 *    again. Resubmitting the corrected form reuses the draft and its key (a refused request
 *    leaves no key behind on the server).
 * Photos are stored and sent as the files the camera gave; the outbox only shows them small.
 * Drafts are sent only under the account that made them.
 *
 * A public form (data-offline-public: the tip page /tip) makes drafts that belong to no
 * account: they are sent without a session or CSRF token, from any page, the same way. Its
 * answer is the receipt page: the receipt (查询码) is kept on this device (localStorage,
 * RECEIPTS_KEY, read by tip.js) so that a draft sent in the background is not lost, and the
 * browser goes to its status page. A public page never clears the page cache.
 */
(() => {
  "use strict";

  const DB_NAME = "bihuan-offline";
  const STORE = "drafts";
  const PAGES_CACHE = "bihuan-pages";
  const RECEIPTS_KEY = "bihuan-tip-receipts";
  const TEXT = {
    title: (n) => `待发送 ${n} 项`,
    hint: "这些内容已保存在本机，网络恢复后会自动发送（每项只会提交一次）。",
    retry: "立即重试",
    remove: "删除草稿",
    confirmRemove: "删除后这条草稿（含照片）将无法恢复，确定删除吗？",
    waiting: "等待网络",
    sending: "正在发送…",
    login: "登录已过期或页面已失效：请重新登录，然后点“立即重试”发送",
    loginLink: "重新登录",
    refused: "未能提交：",
    serverError: "服务器暂时无法处理，稍后自动重试",
    otherUser: "由其他账号保存，登录该账号后才会发送",
    saved: "网络不可用：已保存为草稿，恢复连接后自动发送。",
    sent: (label) => `已发送：${label}`,
    view: "查看",
    photos: (n) => `${n} 张照片`,
    status: (code) => `服务器返回 ${code}`,
  };

  // ---- IndexedDB ---------------------------------------------------------------------------
  let dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    }
    return dbPromise;
  }

  async function store(mode, act) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = act(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  const allDrafts = async () =>
    ((await store("readonly", (s) => s.getAll())) || []).sort((a, b) => a.createdAt - b.createdAt);
  const putDraft = (draft) => store("readwrite", (s) => s.put(draft));
  const deleteDraft = (id) => store("readwrite", (s) => s.delete(id));

  // ---- the page ------------------------------------------------------------------------------
  function meta(name) {
    const element = document.querySelector(`meta[name="${name}"]`);
    return element ? element.content : null;
  }

  /** The signed-in user's id; "" when the page says nobody is; null when it does not say. */
  const currentUser = () => meta("bihuan-user");
  const publicPage = () => meta("bihuan-public-page") === "1";

  function csrfToken() {
    const field = document.querySelector('input[name="csrf_token"]');
    return meta("csrf-token") || (field ? field.value : "");
  }

  function newKey() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function draftFrom(form, submitter) {
    const data = new FormData(form, submitter || undefined);
    const fields = [];
    const files = [];
    for (const [name, value] of data.entries()) {
      if (typeof value === "string") fields.push([name, value]);
      else if (value.size > 0 || value.name) files.push({ name, blob: value, filename: value.name });
    }
    const existing = form.dataset.draftId; // a refused draft being corrected keeps its key
    const id = existing || newKey();
    const isPublic = form.hasAttribute("data-offline-public");
    return {
      id,
      key: id,
      url: form.action,
      page: location.href,
      label: form.dataset.draftLabel || document.title,
      createdAt: Date.now(),
      public: isPublic,
      user: isPublic ? "" : currentUser() || "",
      fields,
      files: files.filter((f) => f.blob.size > 0),
      status: "waiting",
      error: "",
    };
  }

  // ---- sending -------------------------------------------------------------------------------
  const inFlight = new Set();

  /** POST one draft. Returns {done: url} on success, otherwise the draft's new status. */
  async function send(draft, token) {
    inFlight.add(draft.id);
    render();
    const body = new FormData();
    for (const [name, value] of draft.fields) {
      if (name !== "csrf_token") body.append(name, value);
    }
    if (!draft.public) body.append("csrf_token", token);
    for (const file of draft.files) body.append(file.name, file.blob, file.filename);
    const headers = { "Idempotency-Key": draft.key, Accept: "text/html" };
    if (!draft.public) headers["X-CSRF-Token"] = token;
    let response;
    try {
      response = await fetch(draft.url, {
        method: "POST",
        body,
        credentials: draft.public ? "omit" : "same-origin",
        headers,
      });
    } catch (error) {
      return finish(draft, "waiting", "");
    } finally {
      inFlight.delete(draft.id);
    }
    if (draft.public) return sentPublic(draft, response);
    // Success is the POST's 303 (or a plain 200); fetch follows the redirect, so it is seen
    // as a redirected response, whatever the target page then answers. A redirect to the
    // login page means the session had ended and nothing was done.
    const toLogin = new URL(response.url, location.href).pathname.startsWith("/login");
    if ((response.redirected || response.ok) && !toLogin) {
      await deleteDraft(draft.id);
      render();
      return { done: response.url };
    }
    if (toLogin) return finish(draft, "login", TEXT.login);
    if (response.status === 401 || response.status === 403) {
      return finish(draft, "login", await errorText(response, TEXT.login));
    }
    if (response.status >= 500) return finish(draft, "waiting", TEXT.serverError);
    return finish(draft, "error", await errorText(response, TEXT.status(response.status)));
  }

  /** A public draft's answer: the receipt page (201), or a refusal shown on the draft. */
  async function sentPublic(draft, response) {
    if (response.status >= 500) return finish(draft, "waiting", TEXT.serverError);
    if (!response.ok) {
      return finish(draft, "error", await errorText(response, TEXT.status(response.status)));
    }
    let receipt = "";
    try {
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const shown = page.querySelector("#receipt");
      receipt = shown ? shown.textContent.trim() : "";
    } catch (error) {
      receipt = "";
    }
    if (receipt) rememberReceipt(receipt, draft.label);
    await deleteDraft(draft.id);
    render();
    return { done: receipt ? "/tip/status/" + encodeURIComponent(receipt) : response.url };
  }

  function rememberReceipt(receipt, label) {
    try {
      const kept = JSON.parse(localStorage.getItem(RECEIPTS_KEY) || "[]");
      if (!kept.some((r) => r.receipt === receipt)) kept.unshift({ receipt, label, at: Date.now() });
      localStorage.setItem(RECEIPTS_KEY, JSON.stringify(kept.slice(0, 50)));
    } catch (error) {
      // No storage (private mode): the receipt page still shows it.
    }
  }

  async function finish(draft, status, error) {
    draft.status = status;
    draft.error = error;
    await putDraft(draft);
    render();
    return draft;
  }

  async function errorText(response, fallback) {
    try {
      const type = response.headers.get("Content-Type") || "";
      if (type.includes("json")) {
        const detail = (await response.json()).detail;
        return typeof detail === "string" ? detail : fallback;
      }
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const shown = page.querySelector("[role=alert], .error, .form-error");
      return shown && shown.textContent.trim() ? shown.textContent.trim() : fallback;
    } catch (error) {
      return fallback;
    }
  }

  let flushing = false;

  /** The signed-in user and a fresh CSRF token from the server: a page opened from the
   * offline cache may carry an old token. "login" when the session has ended. */
  async function whoami() {
    try {
      const response = await fetch("/whoami", { credentials: "same-origin",
        headers: { Accept: "application/json" } });
      if (response.redirected || response.status === 401) return "login";
      return response.ok ? await response.json() : null;
    } catch (error) {
      return null; // offline
    }
  }

  /** Send the signed-in user's drafts, oldest first: on their own only those waiting for
   * the network; with the retry button (`manual`) also those refused or stopped at a 403
   * (after signing in again), which the user has then chosen to send. */
  async function flush(manual = false) {
    if (flushing || !navigator.onLine) return render();
    flushing = true;
    try {
      const waiting = (await allDrafts()).filter((d) => manual || d.status === "waiting");
      // Public drafts (a tip) need no account: sent as they are, whoever is signed in.
      for (const draft of waiting.filter((d) => d.public)) {
        const result = await send(draft, "");
        if (result && result.done) sentNotes.push({ label: draft.label, url: result.done });
        else if (result && result.status === "waiting" && !navigator.onLine) return;
      }
      const drafts = waiting.filter((d) => !d.public);
      if (!drafts.length) return;
      const who = await whoami();
      if (who === "login") {
        const mine = currentUser();
        for (const draft of drafts) {
          if (mine === null || draft.user === mine) await finish(draft, "login", TEXT.login);
        }
        return;
      }
      if (!who) return;
      for (const draft of drafts) {
        if (draft.user !== String(who.id)) continue;
        const result = await send(draft, who.csrf_token);
        if (result && result.done) sentNotes.push({ label: draft.label, url: result.done });
        else if (result && result.status === "waiting" && !navigator.onLine) break;
      }
    } finally {
      flushing = false;
      render();
    }
  }

  // ---- the outbox (#outbox-status) ---------------------------------------------------------
  const sentNotes = [];
  const previews = new Map(); // blob -> object URL, revoked when the draft is gone

  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (name === "onclick") node.addEventListener("click", value);
      else node.setAttribute(name, value);
    }
    for (const child of children) if (child != null) node.append(child);
    return node;
  }

  function statusText(draft, user) {
    if (!draft.public && user !== null && draft.user !== user) return TEXT.otherUser;
    if (inFlight.has(draft.id)) return TEXT.sending;
    if (draft.status === "login") return draft.error || TEXT.login;
    if (draft.status === "error") return TEXT.refused + draft.error;
    return draft.error || TEXT.waiting;
  }

  function item(draft, user) {
    const when = new Date(draft.createdAt).toLocaleString("zh-CN", { hour12: false });
    const photos = draft.files.map((file) => {
      if (!previews.has(file.blob)) previews.set(file.blob, URL.createObjectURL(file.blob));
      return element("img", { src: previews.get(file.blob), alt: file.filename || "照片",
        width: "48", height: "48", style: "object-fit:cover;margin-right:4px" });
    });
    const status = element("span", { class: "outbox-state", "data-state": draft.status },
      statusText(draft, user));
    const login = draft.status === "login"
      ? element("a", { href: "/login?next=" + encodeURIComponent(location.pathname) },
        TEXT.loginLink)
      : null;
    const remove = element("button", { type: "button", class: "outbox-remove",
      onclick: async () => {
        if (!confirm(TEXT.confirmRemove)) return;
        await deleteDraft(draft.id);
        render();
      } }, TEXT.remove);
    return element("li", { class: "outbox-item", "data-draft-id": draft.id },
      element("strong", {}, draft.label), " · ", when, " · ",
      draft.files.length ? TEXT.photos(draft.files.length) : null, " ",
      status, " ", login, " ", element("span", {}, ...photos), " ", remove);
  }

  let rendering = Promise.resolve();
  function render() {
    rendering = rendering.then(draw, draw);
    return rendering;
  }

  async function draw() {
    const box = document.getElementById("outbox-status");
    if (!box) return;
    const user = currentUser(); // null on a page that does not say (the offline page)
    let drafts = [];
    try {
      drafts = await allDrafts();
    } catch (error) {
      return; // no IndexedDB (private mode): forms still post, just not offline
    }
    const live = new Set(drafts.flatMap((d) => d.files.map((f) => f.blob)));
    for (const [blob, url] of previews) {
      if (!live.has(blob)) { URL.revokeObjectURL(url); previews.delete(blob); }
    }
    const parts = [];
    if (drafts.length) {
      parts.push(element("div", { class: "outbox" },
        element("p", {}, element("strong", {}, TEXT.title(drafts.length)), " ", TEXT.hint, " ",
          element("button", { type: "button", class: "outbox-retry", onclick: () => flush(true) },
            TEXT.retry)),
        element("ul", { class: "outbox-list" }, ...drafts.map((d) => item(d, user)))));
    }
    for (const note of sentNotes) {
      parts.push(element("p", { class: "outbox-sent" }, TEXT.sent(note.label), " ",
        element("a", { href: note.url }, TEXT.view)));
    }
    box.replaceChildren(...parts);
  }

  // ---- the forms -----------------------------------------------------------------------------
  function showFormError(form, message) {
    let note = form.querySelector(".offline-form-error");
    if (!note) {
      note = element("p", { class: "offline-form-error error", role: "alert" });
      form.prepend(note);
    }
    note.textContent = message;
  }

  async function onSubmit(event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.matches("form[data-offline-form]")) return;
    if (!window.indexedDB || !window.fetch) return; // the browser posts the form itself
    event.preventDefault();
    if (form.dataset.sending) return; // a double tap sends once
    form.dataset.sending = "1";
    const buttons = form.querySelectorAll("button, input[type=submit]");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const draft = draftFrom(form, event.submitter);
      await putDraft(draft); // kept before the first byte is sent
      // Sent as the form holds it; drafts sent later take a fresh token from /whoami.
      const field = form.querySelector('input[name="csrf_token"]');
      const result = await send(draft, field ? field.value : csrfToken());
      if (result && result.done) {
        location.assign(result.done);
        return;
      }
      if (result.status === "waiting") {
        delete form.dataset.draftId;
        form.reset();
        showFormError(form, TEXT.saved);
      } else {
        form.dataset.draftId = draft.id;
        showFormError(form, statusText(result, currentUser()));
      }
    } finally {
      delete form.dataset.sending;
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  function start() {
    document.addEventListener("submit", onSubmit);
    window.addEventListener("online", () => flush());
    window.addEventListener("offline", () => render());
    if (currentUser() === "" && !publicPage()) {
      // Signed out: the last user's pages must not open for the next one.
      if (window.caches) caches.delete(PAGES_CACHE);
      if (navigator.serviceWorker && navigator.serviceWorker.controller) {
        navigator.serviceWorker.controller.postMessage("signed-out");
      }
    }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
    }
    flush();
  }

  // Exposed for the browser tests and for debugging from the console.
  window.bihuanOutbox = { flush, drafts: allDrafts };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
