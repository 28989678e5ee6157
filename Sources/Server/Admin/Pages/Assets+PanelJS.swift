extension AdminAssets {
    /// The panel's shared script. Everything works without it (plain forms); it adds
    /// confirmations and `Replyflow.fetch`, which sends the session's CSRF token with
    /// state-changing requests for the pages' own scripts.
    static let panelJS = """
        "use strict";
        (function () {
          function csrfToken() {
            var meta = document.querySelector('meta[name="csrf-token"]');
            return meta ? meta.getAttribute("content") : "";
          }
          // fetch() on the same origin, with the CSRF token on anything but GET and HEAD.
          function panelFetch(url, options) {
            options = options || {};
            var method = (options.method || "GET").toUpperCase();
            var headers = new Headers(options.headers || {});
            if (method !== "GET" && method !== "HEAD") { headers.set("X-CSRF-Token", csrfToken()); }
            headers.set("Accept", headers.get("Accept") || "application/json");
            options.headers = headers;
            options.credentials = "same-origin";
            return fetch(url, options);
          }
          window.Replyflow = { csrfToken: csrfToken, fetch: panelFetch };
          document.addEventListener("submit", function (event) {
            var button = event.submitter;
            var question = button && button.getAttribute("data-confirm");
            if (question && !window.confirm(question)) { event.preventDefault(); }
          });
        })();

        """
}
