/*
 * 医保参保缴费助手 FAQ widget. One tag on any page:
 *   <script src="https://<gateway>/widget/widget.js" data-region="会宁县" defer></script>
 * Options (data-*): region, api (gateway base URL; default: where this file came from),
 * title, position ("right" | "left"), color (#rrggbb), open ("true": start open), hotline.
 *
 * Everything lives in a Shadow DOM (the host page's CSS cannot reach it and ours does not
 * leak out); styles are constructed stylesheets and the DOM is built with textContent only,
 * so it runs under a strict Content-Security-Policy (script-src/connect-src for the gateway;
 * no inline script or style needed). No external code or fonts.
 *
 * The conversation: a random sender id, and the conversation token the gateway gives with the
 * first reply (kept beside the id in localStorage, sent as X-Conversation-Token on every chat
 * and updates call; the id alone reads or continues nothing).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__yibaoWidget) { return; }
  window.__yibaoWidget = true;

  var ds = script.dataset;
  var scriptOrigin = new URL(script.src, window.location.href).origin;
  var cfg = {
    region: (ds.region || "").slice(0, 20),
    api: (ds.api || scriptOrigin).replace(/\/+$/, ""),
    title: ds.title || "医保参保缴费助手",
    position: ds.position === "left" ? "left" : "right",
    color: /^#[0-9a-fA-F]{6}$/.test(ds.color || "") ? ds.color : "#0b5fa5",
    open: ds.open === "true",
    hotline: /^[0-9-]{3,20}$/.test(ds.hotline || "") ? ds.hotline : "12393"
  };
  var KEY = "yibao-widget:" + cfg.api + ":" + cfg.region;
  var MAX_HISTORY = 80;
  var POLL_MS = 4000;

  var CSS = [
    ":host { all: initial; }",
    // The host page's own rules for the host element win over :host, and inherited
    // properties would flow in from it: cut inheritance at our two top-level elements.
    ".launcher, .panel { all: initial; }",
    "* { box-sizing: border-box; font-family: 'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif; }",
    ".launcher { position: fixed; bottom: 20px; " + cfg.position + ": 20px; z-index: 2147483000;",
    "  background: var(--c); color: #fff; border: 0; border-radius: 28px; padding: 12px 18px;",
    "  font-size: 16px; line-height: 1.2; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); }",
    ".panel { position: fixed; bottom: 84px; " + cfg.position + ": 20px; z-index: 2147483001; width: 380px;",
    "  max-width: calc(100vw - 24px); height: 560px; max-height: calc(100vh - 104px); background: #fff; color: #1b1b1b;",
    "  border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.3); display: flex; flex-direction: column;",
    "  overflow: hidden; font-size: 14px; line-height: 1.5; text-align: left; }",
    ".panel[hidden] { display: none; }",
    "header { background: var(--c); color: #fff; padding: 10px 12px; display: flex; align-items: center; gap: 8px; }",
    "header h2 { font-size: 16px; margin: 0; flex: 1; font-weight: bold; }",
    "header .region { font-size: 12px; opacity: .9; }",
    "button { font: inherit; cursor: pointer; }",
    ".close { background: transparent; color: #fff; border: 0; font-size: 22px; line-height: 1; padding: 2px 6px; }",
    ".log { flex: 1; overflow-y: auto; padding: 10px; background: #f4f6f9; }",
    ".msg { margin: 6px 0; max-width: 88%; padding: 8px 10px; border-radius: 10px; white-space: pre-wrap; word-break: break-word; }",
    ".user { margin-left: auto; background: var(--c); color: #fff; }",
    ".bot { background: #fff; border: 1px solid #dde2e8; }",
    ".staff { background: #fff7e6; border: 1px solid #f0c36d; }",
    ".system { background: transparent; color: #666; font-size: 12px; text-align: center; max-width: 100%; }",
    ".who { display: block; font-size: 11px; color: #8a5a00; }",
    ".year { display: table; background: #e8f1fb; color: #0b4f8a; border-radius: 4px; padding: 0 6px; font-size: 12px; margin-top: 6px; }",
    "dl.figs { margin: 6px 0 0; display: flex; flex-wrap: wrap; gap: 6px; }",
    "dl.figs div { background: #f0f6ee; border-radius: 6px; padding: 4px 8px; }",
    "dl.figs dt { font-size: 11px; color: #555; } dl.figs dd { margin: 0; font-weight: bold; font-size: 15px; }",
    "details { margin-top: 6px; font-size: 12px; white-space: normal; }",
    "summary { cursor: pointer; color: #0b4f8a; }",
    "details li { margin: 4px 0; }",
    ".actions { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 6px; }",
    ".chip, .actions a { background: #fff; color: var(--c); border: 1px solid var(--c); border-radius: 14px; padding: 3px 10px; font-size: 13px; text-decoration: none; }",
    ".quick { display: flex; flex-wrap: wrap; gap: 6px; padding: 8px 10px; border-top: 1px solid #e3e6ea; background: #fff; }",
    "form { display: flex; gap: 6px; padding: 8px 10px; border-top: 1px solid #e3e6ea; background: #fff; }",
    "input { flex: 1; font: inherit; padding: 8px; border: 1px solid #a9b1bb; border-radius: 6px; min-width: 0; }",
    ".send { background: var(--c); color: #fff; border: 0; border-radius: 6px; padding: 8px 14px; }",
    "footer { font-size: 11px; color: #666; padding: 4px 10px 8px; background: #fff; }",
    ".sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }",
    "button:focus-visible, input:focus-visible, summary:focus-visible, a:focus-visible { outline: 3px solid #f0a500; outline-offset: 1px; }",
    "@media (max-width: 480px) { .panel { inset: 0; width: 100vw; max-width: 100vw; height: 100%; max-height: 100%; border-radius: 0; bottom: 0; }",
    "  .launcher { bottom: 12px; " + cfg.position + ": 12px; } }",
    "@media (prefers-reduced-motion: no-preference) { .panel { transition: opacity .15s; } }"
  ].join("\n");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(KEY) || "null");
      if (saved && typeof saved === "object" && Array.isArray(saved.history)) { return saved; }
    } catch (e) { /* storage blocked or corrupt: start fresh */ }
    return null;
  }
  var state = load() || { sender: null, token: null, history: [], cursor: 0, pending: [], seen: [], open: cfg.open };
  function newConversation() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    state.sender = "w-" + Array.prototype.map.call(bytes, function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
    state.token = null;
    state.cursor = 0;
    state.pending = [];
    state.seen = [];
  }
  if (!state.sender) { newConversation(); }
  function authHeaders(headers) {
    if (state.token) { headers["X-Conversation-Token"] = state.token; }
    return headers;
  }
  function save() {
    state.history = state.history.slice(-MAX_HISTORY);
    state.seen = state.seen.slice(-200);
    try { window.localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* ignore */ }
  }

  function mount() {
    var host = el("yibao-widget", { lang: "zh-CN" });
    document.body.appendChild(host);
    var root = host.attachShadow({ mode: "open" });
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(":host { --c: " + cfg.color + "; }\n" + CSS);
    root.adoptedStyleSheets = [sheet];

    var launcher = el("button", { type: "button", "class": "launcher", "aria-expanded": "false",
                                  "aria-controls": "yb-panel" }, "医保咨询");
    var panel = el("section", { id: "yb-panel", "class": "panel", role: "dialog",
                                "aria-labelledby": "yb-title", hidden: "" });
    var header = el("header");
    header.appendChild(el("h2", { id: "yb-title" }, cfg.title));
    if (cfg.region) { header.appendChild(el("span", { "class": "region" }, cfg.region)); }
    var close = el("button", { type: "button", "class": "close", "aria-label": "关闭咨询窗口" }, "×");
    header.appendChild(close);
    var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "对话记录", tabindex: "0" });
    var quick = el("div", { "class": "quick", role: "group", "aria-label": "常见问题" });
    var form = el("form", { "aria-label": "提问" });
    var label = el("label", { "for": "yb-input", "class": "sr" }, "输入您的问题");
    var input = el("input", { id: "yb-input", type: "text", maxlength: "500", autocomplete: "off",
                              placeholder: "请输入您的问题，如：低保户交多少钱" });
    var send = el("button", { type: "submit", "class": "send" }, "发送");
    form.appendChild(label); form.appendChild(input); form.appendChild(send);
    var footer = el("footer", {}, "答案依据政府公开通知计算，仅供参考；人工服务请拨打" + cfg.hotline + "。");
    [header, log, quick, form, footer].forEach(function (n) { panel.appendChild(n); });
    root.appendChild(launcher);
    root.appendChild(panel);

    var R = cfg.region;
    var QUICK = [
      ["缴费标准", R + "城乡居民医保个人缴费标准是多少？"],
      ["缴费时间", R + "居民医保什么时候缴费，截止到哪天？"],
      ["待遇开始", R + "居民医保待遇享受期是什么时候？"],
      ["新生儿参保", R + "新生儿怎么参保，什么时候开始享受待遇？"],
      ["缴费渠道", R + "居民医保在哪里缴费？"],
      ["转人工", "转人工"]
    ];
    QUICK.forEach(function (q) {
      var b = el("button", { type: "button", "class": "chip" }, q[0]);
      b.addEventListener("click", function () { ask(q[1], q[0] === "转人工" ? "转人工" : q[1]); });
      quick.appendChild(b);
    });

    function scroll() { log.scrollTop = log.scrollHeight; }

    function renderAnswer(box, data) {
      var year = data.year_label || "";
      if (data.benefit_year) { year += (year ? "（" : "") + data.benefit_year + "年待遇" + (year ? "）" : ""); }
      if (year) { box.appendChild(el("span", { "class": "year" }, "年度：" + year)); }
      if (Array.isArray(data.figures) && data.figures.length) {
        var dl = el("dl", { "class": "figs" });
        data.figures.forEach(function (f) {
          var d = el("div", { "data-key": String(f.key || "") });
          d.appendChild(el("dt", {}, f.label));
          d.appendChild(el("dd", {}, f.value));
          dl.appendChild(d);
        });
        box.appendChild(dl);
      }
      if (Array.isArray(data.citations) && data.citations.length) {
        var det = el("details", { "class": "basis" });
        det.appendChild(el("summary", {}, "依据（" + data.citations.length + "条）"));
        var ul = el("ul");
        data.citations.forEach(function (c) {
          ul.appendChild(el("li", {}, (c.doc_no || "") + " " + (c.section || "") + "：“" + (c.quote || "") + "”"));
        });
        det.appendChild(ul);
        box.appendChild(det);
      }
    }

    function renderReply(reply, author) {
      var cls = author === "staff" ? "staff" : (author === "system" ? "system" : "bot");
      var box = el("div", { "class": "msg " + cls });
      if (author === "staff") { box.appendChild(el("span", { "class": "who" }, "工作人员")); }
      box.appendChild(document.createTextNode(reply.text || ""));
      var data = reply.data;
      if (data && data.type === "answer") { renderAnswer(box, data); }
      var actions = el("div", { "class": "actions" });
      (reply.buttons || []).forEach(function (b) {
        var btn = el("button", { type: "button", "class": "chip" }, b.title);
        btn.addEventListener("click", function () { ask(b.payload || b.title, b.title); });
        actions.appendChild(btn);
      });
      if (data && data.type === "answer" && data.topic !== "payment_channels" && data.status === "ok") {
        var pay = el("button", { type: "button", "class": "chip pay" }, "缴费渠道");
        pay.addEventListener("click", function () {
          ask((data.region || R) + "居民医保在哪里缴费？", "缴费渠道");
        });
        actions.appendChild(pay);
      }
      (reply.links || []).forEach(function (l) {
        if (!/^https?:\/\//.test(l.url || "")) { return; }
        actions.appendChild(el("a", { href: l.url, target: "_blank", rel: "noopener noreferrer" }, l.title));
      });
      if (actions.childNodes.length) { box.appendChild(actions); }
      log.appendChild(box);
    }

    function renderItem(item) {
      if (item.role === "user") {
        log.appendChild(el("div", { "class": "msg user" }, item.text));
      } else {
        renderReply(item.reply, item.role);
      }
    }

    function add(item) {
      state.history.push(item);
      save();
      renderItem(item);
      scroll();
    }

    function systemNote(text) { add({ role: "system", reply: { text: text, buttons: [], links: [] } }); }

    var busy = false;
    function ask(message, shown) {
      message = String(message || "").trim();
      if (!message || busy) { return; }
      busy = true;
      send.disabled = true;
      add({ role: "user", text: shown || message });
      var clientId = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
      fetch(cfg.api + "/widget/chat", {
        method: "POST",
        headers: authHeaders({ "Content-Type": "application/json" }),
        body: JSON.stringify({ sender: state.sender, message: message, channel: "web", message_id: clientId })
      }).then(function (resp) {
        return resp.json().then(function (body) { return { ok: resp.ok, body: body }; });
      }).then(function (r) {
        var code = r.body && r.body.error && r.body.error.code;
        if (code === "conversation_token_invalid") {
          // The token is gone (storage cleared in part): this conversation cannot be continued.
          newConversation();
          save();
          systemNote("此前的对话已无法继续，已为您开始新的对话，请重新发送您的问题。");
          return;
        }
        if (!r.ok) {
          systemNote((r.body && r.body.error && r.body.error.message) || "请求失败，请稍后再试");
          return;
        }
        if (typeof r.body.conversation_token === "string") { state.token = r.body.conversation_token; }
        var id = r.body.message_id;
        (r.body.messages || []).forEach(function (m) {
          add({ role: r.body.status === "staff" ? "system" : "bot", reply: m });
        });
        if (r.body.status === "pending") {
          state.pending.push(id);
        } else if (!state.pending.length) {
          state.cursor = Math.max(state.cursor, id);
        }
        save();
      }).catch(function () {
        systemNote("网络连接失败，请检查网络后重试，或拨打" + cfg.hotline + "。");
      }).then(function () {
        busy = false;
        send.disabled = false;
      });
    }

    function poll() {
      if (panel.hidden || busy || !state.token) { return; }
      var after = state.pending.length ? Math.min.apply(null, state.pending) - 1 : state.cursor;
      var url = cfg.api + "/widget/updates?sender=" + encodeURIComponent(state.sender) +
        "&channel=web&after=" + encodeURIComponent(after);
      fetch(url, { headers: authHeaders({}) }).then(function (resp) { return resp.ok ? resp.json() : null; }).then(function (body) {
        if (!body) { return; }
        (body.messages || []).forEach(function (m) {
          var key = m.id + ":" + (m.author || "") + ":" + (m.text || "").slice(0, 40);
          if (state.seen.indexOf(key) >= 0) { return; }
          state.seen.push(key);
          if (m.author === "bot") {
            state.pending = state.pending.filter(function (p) { return p !== m.id; });
          }
          add({ role: m.author === "staff" ? "staff" : "bot", reply: m });
        });
        if (!state.pending.length && typeof body.last_id === "number") {
          state.cursor = Math.max(state.cursor, body.last_id);
        }
        save();
      }).catch(function () { /* offline: next round */ });
    }

    function setOpen(open, focus) {
      panel.hidden = !open;
      launcher.setAttribute("aria-expanded", open ? "true" : "false");
      launcher.textContent = open ? "收起咨询" : "医保咨询";
      state.open = open;
      save();
      if (open) {
        scroll();
        if (focus) { input.focus(); }
        poll();
      } else if (focus) {
        launcher.focus();
      }
    }

    launcher.addEventListener("click", function () { setOpen(panel.hidden, true); });
    close.addEventListener("click", function () { setOpen(false, true); });
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { e.preventDefault(); setOpen(false, true); }
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var text = input.value;
      if (!text.trim()) { input.focus(); return; }
      input.value = "";
      ask(text);
    });

    if (!state.history.length) {
      add({ role: "bot", reply: { text: "您好！我是" + (R ? R + "的" : "") + "医保参保缴费助手，可以回答城乡居民医保缴费标准、资助、缴费时间、待遇享受期、新生儿参保等问题。请点击下方常见问题或直接输入。", buttons: [], links: [] } });
    } else {
      state.history.forEach(renderItem);
    }
    setOpen(!!state.open, false);
    window.setInterval(poll, POLL_MS);
  }

  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
