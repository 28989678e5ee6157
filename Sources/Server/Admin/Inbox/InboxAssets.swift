extension AdminAssets {
    /// The inbox's part of the panel's one stylesheet (`panel.css` is the two joined).
    static let inboxCSS = #"""
        /* The inbox: the list of conversations and the open one side by side, stacked on a phone. */
        :root { --hover: #eef1f6; --selected: #e2e9fb; --chip: #eceff3; --bubble-in: #fff; --bubble-out: #e2e9fb; }
        main:has(> #inbox) { max-width: none; padding: 0; }
        .inbox { display: grid; grid-template-columns: minmax(260px, 360px) 1fr; gap: 0; height: calc(100vh - 3.2rem); }
        .chat-list { border-right: 1px solid var(--line); display: flex; flex-direction: column; min-height: 0; }
        .filters { display: flex; flex-wrap: wrap; gap: .35rem; padding: .6rem; border-bottom: 1px solid var(--line); }
        .filters input[type=search] { flex: 1 1 100%; }
        .filters select, .filters label { font-size: .85rem; }
        .chats { list-style: none; margin: 0; padding: 0; overflow-y: auto; flex: 1; }
        .chat a { display: grid; grid-template-columns: auto 1fr auto; gap: .1rem .4rem; padding: .55rem .7rem; color: inherit; text-decoration: none; border-bottom: 1px solid var(--line); }
        .chat a:hover, .chat a:focus { background: var(--hover); }
        .chat.current a { background: var(--selected); }
        .chat .name { font-weight: 500; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .chat.unread .name::after { content: " ●"; color: var(--accent); }
        .chat.unread .name { font-weight: 700; }
        .chat time { color: var(--muted); font-size: .8rem; }
        .chat .preview { grid-column: 1 / -1; color: var(--muted); font-size: .85rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        .chat .tags { grid-column: 1 / -1; display: flex; gap: .3rem; font-size: .75rem; }
        .source, .badge, .waiting { border-radius: .6rem; padding: 0 .45rem; font-size: .75rem; white-space: nowrap; }
        .source { background: var(--chip); }
        .badge.mode-ai { background: #e3f2e1; color: #215a1c; }
        .badge.mode-staff { background: #fde9d2; color: #7a3d00; }
        .waiting { background: #fbe0e0; color: #8a1c1c; }
        .more, .older { display: block; text-align: center; padding: .5rem; font-size: .85rem; }
        .empty, .placeholder { color: var(--muted); padding: 1rem; }
        .conversation { display: flex; flex-direction: column; min-height: 0; }
        .conversation > header { display: flex; align-items: baseline; gap: .6rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
        .conversation h2 { margin: 0; font-size: 1.1rem; }
        .platform-id { color: var(--muted); font-size: .8rem; font-family: monospace; }
        .auto-banner { display: flex; align-items: center; justify-content: space-between; gap: 1rem; padding: .45rem 1rem; }
        .auto-banner.mode-ai { background: #eef7ec; }
        .auto-banner.mode-staff { background: #fff4e6; }
        .auto-banner p { margin: 0; }
        .messages { list-style: none; margin: 0; padding: .8rem 1rem; overflow-y: auto; flex: 1; display: flex; flex-direction: column; gap: .5rem; }
        .message { max-width: 72%; padding: .45rem .7rem; border-radius: .7rem; background: var(--bubble-in); align-self: flex-start; overflow-wrap: anywhere; }
        .message.outgoing { align-self: flex-end; background: var(--bubble-out); }
        .message .meta { font-size: .75rem; color: var(--muted); display: flex; gap: .5rem; }
        .message .text { margin: .2rem 0 0; white-space: pre-wrap; }
        .message img { max-width: 240px; max-height: 240px; border-radius: .4rem; display: block; margin-top: .3rem; }
        .message .transcript { font-style: italic; margin: .2rem 0 0; }
        .delivery-failed { margin-top: .3rem; color: #8a1c1c; font-size: .85rem; display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
        .delivery-pending { font-size: .75rem; color: var(--muted); }
        .reply { display: flex; gap: .5rem; padding: .6rem 1rem; border-top: 1px solid var(--line); }
        .reply textarea { flex: 1; resize: vertical; min-height: 2.6rem; font: inherit; padding: .4rem; }
        .why { border-top: 1px solid var(--line); padding: .4rem 1rem; max-height: 35vh; overflow-y: auto; font-size: .85rem; }
        .why summary { cursor: pointer; color: var(--accent); }
        .why .run h3 { font-size: .85rem; margin: .6rem 0 .2rem; }
        .why .run ul { margin: 0; padding-left: 1.1rem; }
        .why .ran { color: #215a1c; }
        .why .skipped { color: var(--muted); }
        .panel-error { background: #fbe0e0; color: #8a1c1c; padding: .4rem 1rem; margin: 0; }
        .shortcuts { position: fixed; right: 1rem; bottom: 1rem; background: var(--bg); border: 1px solid var(--line); border-radius: .5rem; padding: .8rem 1.2rem; box-shadow: 0 4px 18px rgba(0,0,0,.15); }
        .shortcuts dl { display: grid; grid-template-columns: auto auto; gap: .2rem 1rem; margin: 0; }
        .shortcuts dt { font-family: monospace; }
        @media (max-width: 760px) {
          .inbox { grid-template-columns: 1fr; height: auto; }
          .chat-list { border-right: 0; max-height: 45vh; }
          .messages { max-height: 60vh; }
          .message { max-width: 90%; }
        }

        """#

    /// The inbox's script (see the comment at its top).
    static let inboxJS = #"""
        // The inbox, made live. The pages work without this script (plain links and forms);
        // it adds: new messages and chats without a reload (EventSource, which reconnects and
        // resumes by itself), replies and switches sent without leaving the page, Enter to send,
        // older messages on scroll, keyboard shortcuts and the unread count in the tab title.
        // Everything shown comes from the server's own rendering of the page: a refresh fetches
        // the page again and moves its nodes in, so there is one way to draw a chat (the
        // server's escaped template), and no customer text is ever parsed as HTML here.
        (function () {
          "use strict";
          var inbox = document.getElementById("inbox");
          if (!inbox) return;

          var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
          var refreshTimer = null;
          var refreshing = false;
          var refreshAgain = false;

          function byId(id) { return document.getElementById(id); }

          function setTitle(root) {
            var unread = parseInt((root.querySelector("#inbox") || inbox).getAttribute("data-unread") || "0", 10);
            var base = inbox.getAttribute("data-title") || "Inbox";
            document.title = unread > 0 ? "(" + unread + ") " + base : base;
          }

          function showError(text) {
            var box = byId("panel-error");
            if (!box) return;
            box.textContent = text;
            box.hidden = !text;
          }

          // Fetches a page of the panel; a session that ended sends the browser to log in.
          function fetchPage(url) {
            return fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
              if (response.redirected && response.url.indexOf("/admin/login") !== -1) {
                window.location.assign(response.url);
                throw new Error("signed out");
              }
              if (!response.ok) throw new Error("the server answered " + response.status);
              return response.text();
            }).then(function (html) {
              return new DOMParser().parseFromString(html, "text/html");
            });
          }

          function nearBottom(list) {
            return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
          }

          function scrollToBottom() {
            var list = byId("messages");
            if (list) list.scrollTop = list.scrollHeight;
          }

          // Swaps a node for the fresh page's node of the same id (both must exist).
          function swap(fresh, id) {
            var mine = byId(id), theirs = fresh.getElementById(id);
            if (mine && theirs) mine.replaceWith(document.importNode(theirs, true));
            else if (mine && !theirs) mine.remove();
          }

          // New messages are appended and changed ones (a delivery that failed or went out)
          // replaced in place: older messages loaded by scrolling stay where they are.
          function mergeMessages(fresh) {
            var mine = byId("messages"), theirs = fresh.getElementById("messages");
            if (!mine || !theirs) return;
            var follow = nearBottom(mine);
            Array.prototype.forEach.call(theirs.children, function (item) {
              var id = item.getAttribute("data-message-id");
              var existing = id && mine.querySelector('[data-message-id="' + id + '"]');
              var copy = document.importNode(item, true);
              if (existing) existing.replaceWith(copy);
              else if (id) mine.appendChild(copy);
            });
            var empty = mine.querySelector(".empty");
            if (empty && mine.querySelector("[data-message-id]")) empty.remove();
            if (follow) scrollToBottom();
          }

          function refresh() {
            if (refreshing) { refreshAgain = true; return; }
            refreshing = true;
            fetchPage(window.location.href).then(function (fresh) {
              var whyOpen = byId("why") && byId("why").open;
              swap(fresh, "chats");
              swap(fresh, "more-chats");
              swap(fresh, "auto-banner");
              swap(fresh, "why");
              if (byId("why")) byId("why").open = whyOpen;
              mergeMessages(fresh);
              var freshInbox = fresh.getElementById("inbox");
              if (freshInbox) inbox.setAttribute("data-unread", freshInbox.getAttribute("data-unread") || "0");
              setTitle(document);
              showError("");
            }).catch(function (error) {
              if (error.message !== "signed out") showError("Could not refresh: " + error.message);
            }).then(function () {
              refreshing = false;
              if (refreshAgain) { refreshAgain = false; refresh(); }
            });
          }

          function scheduleRefresh() {
            if (refreshTimer) return;
            refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 150);
          }

          // Forms (reply, auto mode, retry) are posted in the background; the page then refreshes.
          function post(form) {
            var body = new URLSearchParams(new FormData(form));
            var button = form.querySelector("button");
            if (button) button.disabled = true;
            return fetch(form.action, {
              method: "POST",
              credentials: "same-origin",
              headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf, "Accept": "application/json" },
              body: body.toString()
            }).then(function (response) {
              if (response.ok) return null;
              return response.json().then(function (error) { return error.error || error.message || ("the server answered " + response.status); },
                function () { return "the server answered " + response.status; });
            }).then(function (failure) {
              if (button) button.disabled = false;
              if (failure) { showError(failure); return false; }
              showError("");
              refresh();
              // A delivery's outcome (sent, or failed again) is not on the live stream:
              // look once more when it has had time to go out.
              setTimeout(scheduleRefresh, 2500);
              return true;
            }, function (error) {
              if (button) button.disabled = false;
              showError("Not sent: " + error.message);
              return false;
            });
          }

          document.addEventListener("submit", function (event) {
            var form = event.target;
            if (!form.hasAttribute("data-live")) return;
            event.preventDefault();
            post(form).then(function (sent) {
              if (sent && form.id === "reply-form") {
                form.reset();
                scrollToBottom();
              }
            });
          });

          var reply = byId("reply");
          if (reply) {
            reply.addEventListener("keydown", function (event) {
              if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
                event.preventDefault();
                if (reply.value.trim() !== "") byId("reply-form").requestSubmit();
              }
            });
          }

          // Older messages load when the list is scrolled to its top.
          var loadingOlder = false;
          function loadOlder() {
            var link = byId("older");
            var list = byId("messages");
            if (!link || !list || loadingOlder) return;
            loadingOlder = true;
            fetchPage(link.href).then(function (fresh) {
              var theirs = fresh.getElementById("messages");
              var before = list.scrollHeight;
              var first = list.firstElementChild;
              Array.prototype.forEach.call(theirs ? theirs.children : [], function (item) {
                var id = item.getAttribute("data-message-id");
                if (id && !list.querySelector('[data-message-id="' + id + '"]')) list.insertBefore(document.importNode(item, true), first);
              });
              list.scrollTop += list.scrollHeight - before;
              swap(fresh, "older");
            }).catch(function (error) {
              showError("Could not load older messages: " + error.message);
            }).then(function () { loadingOlder = false; });
          }
          var messages = byId("messages");
          if (messages) {
            scrollToBottom();
            messages.addEventListener("scroll", function () { if (messages.scrollTop < 40) loadOlder(); });
            var older = byId("older");
            if (older) older.addEventListener("click", function (event) { event.preventDefault(); loadOlder(); });
          }

          // Keyboard shortcuts; none fires while typing in a field (Escape leaves the field).
          function typing(target) {
            return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
          }
          function moveChat(step) {
            var links = Array.prototype.slice.call(document.querySelectorAll("#chats a.chat-link"));
            if (links.length === 0) return;
            var current = links.findIndex(function (link) { return link.parentElement.classList.contains("current"); });
            var next = current === -1 ? 0 : Math.min(links.length - 1, Math.max(0, current + step));
            if (next !== current) window.location.assign(links[next].href);
          }
          function toggleHelp() {
            var help = byId("shortcuts");
            if (help) help.hidden = !help.hidden;
          }
          document.addEventListener("keydown", function (event) {
            if (event.key === "Escape") {
              if (typing(event.target)) event.target.blur();
              var help = byId("shortcuts");
              if (help) help.hidden = true;
              return;
            }
            if (typing(event.target) || event.ctrlKey || event.metaKey) return;
            var key = event.altKey ? event.code : event.key;
            var handled = true;
            if (key === "j" || key === "KeyJ") moveChat(1);
            else if (key === "k" || key === "KeyK") moveChat(-1);
            else if (key === "/" && !event.altKey) { var search = byId("search"); if (search) search.focus(); }
            else if (key === "r" && !event.altKey) { if (reply) reply.focus(); }
            else if (key === "a" && !event.altKey) { var toggle = byId("toggle-auto"); if (toggle) toggle.click(); }
            else if (key === "?") toggleHelp();
            else handled = false;
            if (handled) event.preventDefault();
          });
          var helpButton = byId("shortcuts-button");
          if (helpButton) helpButton.addEventListener("click", toggleHelp);

          // Live updates: any change of a chat refreshes what this page shows.
          var streamURL = inbox.getAttribute("data-stream");
          if (streamURL && window.EventSource) {
            var source = new EventSource(streamURL);
            source.addEventListener("update", scheduleRefresh);
            source.addEventListener("reset", scheduleRefresh);
            source.addEventListener("open", function () { inbox.setAttribute("data-live", "on"); });
            source.addEventListener("error", function () { inbox.setAttribute("data-live", "reconnecting"); });
          }
          // How long customers have waited is drawn by the server: redraw it now and then.
          setInterval(scheduleRefresh, 60000);
          setTitle(document);
        })();

        """#

    static let inbox: [AdminAsset] = [.javaScript("inbox.js", inboxJS)]
}
