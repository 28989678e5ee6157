extension AdminTemplates {
    /// The inbox: the chat list (`chats`, `filters`, `nextHref`) beside the open chat (`open`).
    /// Ids the script relies on: `inbox`, `chats`, `more-chats`, `auto-banner`, `toggle-auto`,
    /// `messages` (items carry `data-message-id`), `older`, `reply-form`, `reply`, `why`, `search`.
    static let inbox = #"""
        <div id="inbox" class="inbox" data-unread="{{unread}}" data-title="{{title}}" data-stream="/admin/api/stream">
          <section class="chat-list" aria-label="Conversations">
            <form class="filters" method="get" action="/admin" role="search">
              <input type="search" id="search" name="q" value="{{filters.search}}" placeholder="Search by name, id or message text" maxlength="200">
              <select name="source" aria-label="Source">
                {{#filters.sources}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/filters.sources}}
              </select>
              <select name="mode" aria-label="Auto mode">
                {{#filters.modes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/filters.modes}}
              </select>
              <select name="sort" aria-label="Sort">
                {{#filters.sorts}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/filters.sorts}}
              </select>
              <label><input type="checkbox" name="waiting" value="1"{{#filters.waiting}} checked{{/filters.waiting}}> Waiting</label>
              <label><input type="checkbox" name="unread" value="1"{{#filters.unread}} checked{{/filters.unread}}> Unread</label>
              <button type="submit">Apply</button>
            </form>
            <ol class="chats" id="chats">
              {{#chats}}
              <li class="chat{{#unread}} unread{{/unread}}{{#current}} current{{/current}}" data-chat-id="{{id}}">
                <a class="chat-link" href="{{href}}">
                  <span class="name">{{name}}</span>
                  <time datetime="{{atISO}}" title="{{atFull}}">{{atShort}}</time>
                  <span class="preview">{{preview}}</span>
                  <span class="tags">
                    <span class="source">{{sourceLabel}}</span>
                    <span class="badge {{modeClass}}">{{modeLabel}}</span>
                    {{#waitingLabel}}<span class="waiting" title="Waiting for a human answer since {{waitingSince}}">waiting {{waitingLabel}}</span>{{/waitingLabel}}
                  </span>
                </a>
              </li>
              {{/chats}}
              {{^chats}}<li class="empty">{{emptyList}}</li>{{/chats}}
            </ol>
            {{#nextHref}}<a class="more" id="more-chats" href="{{nextHref}}" rel="next">More conversations</a>{{/nextHref}}
          </section>
          <section class="conversation" id="conversation" aria-label="Conversation">
            {{#open}}
            <header>
              <h2>{{name}}</h2>
              <span class="source">{{sourceLabel}}</span>
              <span class="platform-id" title="Id on {{sourceLabel}}">{{platformChatID}}</span>
              {{#layout.isAdmin}}<a class="erase" id="erase-customer" href="/admin/chats/{{id}}/erase">Erase this customer…</a>{{/layout.isAdmin}}
            </header>
            <div id="auto-banner" class="auto-banner {{modeClass}}">
              {{#autoOn}}
              <p>The AI is answering this chat.</p>
              <form method="post" action="/admin/chats/{{id}}/auto-mode" data-live>
                <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="on" value="false">
                <button id="toggle-auto" type="submit" title="Shortcut: a">Take over</button>
              </form>
              {{/autoOn}}
              {{^autoOn}}
              <p>Staff are answering this chat; the AI is off.</p>
              <form method="post" action="/admin/chats/{{id}}/auto-mode" data-live>
                <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="on" value="true">
                <button id="toggle-auto" type="submit" title="Shortcut: a">Give back to the AI</button>
              </form>
              {{/autoOn}}
            </div>
            {{#olderHref}}<a class="older" id="older" href="{{olderHref}}">Older messages</a>{{/olderHref}}
            <ol class="messages" id="messages">
              {{#messages}}
              <li class="message {{directionClass}} author-{{author}}" data-message-id="{{id}}">
                <div class="meta"><span class="author">{{authorLabel}}</span><time datetime="{{atISO}}" title="{{atFull}}">{{atShort}}</time></div>
                {{#text}}<p class="text">{{text}}</p>{{/text}}
                {{#photoHref}}<a href="{{photoHref}}" target="_blank" rel="noopener noreferrer"><img src="{{photoHref}}" alt="Photo" loading="lazy"></a>{{/photoHref}}
                {{#audioHref}}<audio controls preload="none" src="{{audioHref}}"></audio>{{/audioHref}}
        {{#fileHref}}<p class="media"><a href="{{fileHref}}" target="_blank" rel="noopener noreferrer">{{mediaName}}</a></p>{{/fileHref}}
        {{#mediaLabel}}<p class="media">{{mediaLabel}}</p>{{/mediaLabel}}
        {{#transcript}}<p class="transcript" title="Transcript">🎤 {{transcript}}</p>{{/transcript}}
                {{#failed}}
                <div class="delivery-failed">
                  <span>Not delivered: {{error}}</span>
                  <form method="post" action="/admin/chats/{{chatID}}/retry" data-live>
                    <input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="item" value="{{itemID}}">
                    <button type="submit">Retry</button>
                  </form>
                </div>
                {{/failed}}
                {{#pending}}<span class="delivery-pending">sending…</span>{{/pending}}
              </li>
              {{/messages}}
              {{^messages}}<li class="empty">No messages yet.</li>{{/messages}}
            </ol>
            <form id="reply-form" class="reply" method="post" action="/admin/chats/{{id}}/reply" data-live>
              <input type="hidden" name="_csrf" value="{{csrf}}">
              <textarea id="reply" name="text" rows="2" maxlength="{{maxReply}}" required placeholder="Reply on {{sourceLabel}} (Enter sends, Shift+Enter starts a new line)" aria-label="Reply"></textarea>
              <button type="submit">Send</button>
            </form>
            <details id="why" class="why">
              <summary>Why did (or didn't) the bot answer?</summary>
              {{#runs}}
              <section class="run">
                <h3>{{event}} · <time datetime="{{atISO}}">{{atFull}}</time></h3>
                {{#note}}<p>{{note}}</p>{{/note}}
                <ul>
                  {{#flows}}<li class="{{resultClass}}">{{flow}}: {{result}}{{#reason}} ({{reason}}){{/reason}}{{#variant}}, variant {{variant}}{{/variant}}{{#actions}}<br>→ {{.}}{{/actions}}</li>{{/flows}}
                </ul>
              </section>
              {{/runs}}
              {{^runs}}<p>No flow runs recorded for this chat yet.</p>{{/runs}}
            </details>
            {{/open}}
            {{^open}}<p class="placeholder">Choose a conversation on the left.</p>{{/open}}
          </section>
          <p id="panel-error" class="panel-error" role="alert" hidden></p>
          <div id="shortcuts" class="shortcuts" hidden>
            <h2>Keyboard</h2>
            <dl>
              <dt>j / Alt+J</dt><dd>next conversation</dd>
              <dt>k / Alt+K</dt><dd>previous conversation</dd>
              <dt>/</dt><dd>search</dd>
              <dt>r</dt><dd>write a reply</dd>
              <dt>Enter</dt><dd>send (Shift+Enter: new line)</dd>
              <dt>a</dt><dd>take over / give back to the AI</dd>
              <dt>?</dt><dd>show or hide this list</dd>
              <dt>Esc</dt><dd>leave a field, close this list</dd>
            </dl>
          </div>
        </div>

        """#
}
