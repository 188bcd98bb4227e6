/// The console's stylesheet and its one script, served from `/console/assets/` (same origin, no CDN, no
/// build step). Pages carry no inline style or script: the Content-Security-Policy forbids both.
enum ConsoleAssets {
    static let stylesheet = """
        :root{--ink:#1d2430;--muted:#5b6575;--line:#d9dee7;--bg:#f4f6f9;--card:#fff;--brand:#1f4fd1;--brand-ink:#fff;--ok:#17794a;--ok-bg:#e6f4ec;--bad:#b3261e;--bad-bg:#fbeaea;--warn:#8a5a00;--warn-bg:#fff4db}
        *{box-sizing:border-box}
        body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:var(--bg)}
        a{color:var(--brand)}
        header{background:#111a2e;color:#fff}
        header .bar{max-width:980px;margin:0 auto;padding:.7rem 1.2rem;display:flex;align-items:center;gap:1.4rem;flex-wrap:wrap}
        header .brand{font-weight:700;letter-spacing:.02em;color:#fff;text-decoration:none;font-size:1.1rem;display:flex;align-items:center;gap:.5rem}
        header .brand svg{display:block}
        header nav{display:flex;gap:1rem;flex:1;flex-wrap:wrap}
        header nav a{color:#c9d3ea;text-decoration:none;padding:.2rem 0;border-bottom:2px solid transparent}
        header nav a.current,header nav a:hover{color:#fff;border-bottom-color:#7ea2ff}
        header form{margin:0}
        header .who{color:#c9d3ea;font-size:.9rem}
        main{max-width:980px;margin:1.5rem auto;padding:0 1.2rem}
        main.narrow{max-width:460px;margin-top:3rem}
        h1{font-size:1.5rem;margin:.2rem 0 1rem}
        h2{font-size:1.1rem;margin:0 0 .8rem}
        .card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:1.3rem 1.4rem;margin-bottom:1.2rem;box-shadow:0 1px 2px rgba(16,24,40,.04)}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:1.2rem}
        .grid .card{margin-bottom:0}
        label{display:block;font-weight:600;margin:.8rem 0 .25rem}
        label .hint{font-weight:400;color:var(--muted)}
        input[type=text],input[type=password],input[type=email],input[type=tel],input[type=search],select{width:100%;padding:.55rem .65rem;border:1px solid #b9c1cf;border-radius:7px;font:inherit;background:#fff}
        input:focus,select:focus{outline:2px solid #7ea2ff;outline-offset:1px;border-color:var(--brand)}
        input.invalid{border-color:var(--bad)}
        .field-error{color:var(--bad);font-size:.9rem;margin:.25rem 0 0}
        button,.button{white-space:nowrap;display:inline-block;padding:.55rem 1rem;border-radius:7px;border:1px solid var(--brand);background:var(--brand);color:var(--brand-ink);font:inherit;font-weight:600;cursor:pointer;text-decoration:none}
        button.secondary,.button.secondary{background:#fff;color:var(--brand)}
        button.danger{background:var(--bad);border-color:var(--bad)}
        button.link{background:none;border:none;color:#c9d3ea;padding:0;font-weight:400}
        button.small{padding:.3rem .7rem;font-size:.9rem}
        .actions{display:flex;gap:.6rem;align-items:center;margin-top:1.1rem;flex-wrap:wrap}
        .inline{display:inline}
        .actions input[type=search],.actions input[type=text]{flex:1;width:auto;min-width:10rem}
        td .inline input[type=text],td .inline input[type=password]{width:9rem;padding:.3rem .5rem}
        td.nowrap,.nowrap{white-space:nowrap}
        .flash{border-radius:8px;padding:.7rem 1rem;margin-bottom:1rem;border:1px solid}
        .flash.ok{background:var(--ok-bg);border-color:#a6d8bb;color:var(--ok)}
        .flash.error{background:var(--bad-bg);border-color:#f0b7b3;color:var(--bad)}
        .flash.info{background:#eaf0ff;border-color:#bccbf5;color:#1f3f9e}
        .flash.warn{background:var(--warn-bg);border-color:#f0d48a;color:var(--warn)}
        table{width:100%;border-collapse:collapse;font-size:.93rem}
        th,td{text-align:left;padding:.5rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
        th{color:var(--muted);font-weight:600;font-size:.85rem;text-transform:uppercase;letter-spacing:.03em}
        .muted{color:var(--muted)}
        .mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85rem;overflow-wrap:anywhere}
        .badge{display:inline-block;padding:.05rem .5rem;border-radius:99px;font-size:.8rem;font-weight:600;background:#eef1f6;color:var(--muted)}
        .badge.ok{background:var(--ok-bg);color:var(--ok)}
        .badge.bad{background:var(--bad-bg);color:var(--bad)}
        .badge.warn{background:var(--warn-bg);color:var(--warn)}
        .badge.brand{background:#eaf0ff;color:#1f3f9e}
        .qr{display:flex;gap:1.4rem;align-items:flex-start;flex-wrap:wrap}
        .qr img{border:1px solid var(--line);border-radius:8px;image-rendering:pixelated;width:220px;height:220px}
        .secret{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.05rem;letter-spacing:.08em;background:#f1f4f9;padding:.4rem .6rem;border-radius:6px;word-break:break-all}
        .codes{columns:2;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:1.05rem;background:#f1f4f9;padding:.8rem 1rem;border-radius:8px;list-style:none;margin:0}
        .stat{font-size:1.8rem;font-weight:700}
        .chart svg{width:100%;height:auto;display:block}
        .rating-strong{color:var(--ok)}.rating-fair{color:var(--warn)}.rating-weak{color:var(--bad)}
        .js-only{display:none}
        .has-webauthn .js-only{display:inline-block}
        .divider{display:flex;align-items:center;gap:.8rem;color:var(--muted);margin:1.2rem 0}
        .divider::before,.divider::after{content:"";flex:1;border-top:1px solid var(--line)}
        .pager{display:flex;gap:.8rem;margin-top:1rem}
        .scroll{overflow-x:auto}
        table.dense{font-size:.84rem}
        table.dense th,table.dense td{padding:.4rem .35rem}
        footer{max-width:980px;margin:2rem auto;padding:0 1.2rem;color:var(--muted);font-size:.85rem}
        """

    /// The passkey ceremonies (the only part of the console that needs JavaScript): a form marked
    /// `data-webauthn="create"` or `"get"` carries the ceremony's options as JSON in `data-options`; on
    /// submit the script runs the ceremony and sends the credential back in the form's `credential` field.
    static let script = """
        (function () {
          "use strict";
          if (!window.PublicKeyCredential || !navigator.credentials) { return; }
          document.documentElement.classList.add("has-webauthn");
          function fromB64url(text) {
            var base = text.replace(/-/g, "+").replace(/_/g, "/");
            while (base.length % 4) { base += "="; }
            var raw = atob(base), bytes = new Uint8Array(raw.length);
            for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
            return bytes.buffer;
          }
          function toB64url(buffer) {
            var bytes = new Uint8Array(buffer), raw = "";
            for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
            return btoa(raw).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
          }
          function creationOptions(json) {
            var o = Object.assign({}, json);
            o.challenge = fromB64url(json.challenge);
            o.user = Object.assign({}, json.user, { id: fromB64url(json.user.id) });
            o.excludeCredentials = (json.excludeCredentials || []).map(function (c) { return Object.assign({}, c, { id: fromB64url(c.id) }); });
            return o;
          }
          function requestOptions(json) {
            var o = Object.assign({}, json);
            o.challenge = fromB64url(json.challenge);
            o.allowCredentials = (json.allowCredentials || []).map(function (c) { return Object.assign({}, c, { id: fromB64url(c.id) }); });
            return o;
          }
          function credentialJSON(credential) {
            var r = credential.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
            if (r.attestationObject) {
              response.attestationObject = toB64url(r.attestationObject);
              response.transports = r.getTransports ? r.getTransports() : [];
            } else {
              response.authenticatorData = toB64url(r.authenticatorData);
              response.signature = toB64url(r.signature);
              if (r.userHandle) { response.userHandle = toB64url(r.userHandle); }
            }
            return JSON.stringify({ id: credential.id, rawId: toB64url(credential.rawId), type: credential.type,
              authenticatorAttachment: credential.authenticatorAttachment || null, response: response, clientExtensionResults: {} });
          }
          document.querySelectorAll("form[data-webauthn]").forEach(function (form) {
            form.addEventListener("submit", function (event) {
              if (form.dataset.done === "1") { return; }
              event.preventDefault();
              var status = form.querySelector("[data-status]");
              var options = JSON.parse(form.dataset.options);
              var ceremony = form.dataset.webauthn === "create"
                ? navigator.credentials.create({ publicKey: creationOptions(options) })
                : navigator.credentials.get({ publicKey: requestOptions(options) });
              if (status) { status.textContent = "Waiting for your passkey…"; }
              ceremony.then(function (credential) {
                form.querySelector("input[name=credential]").value = credentialJSON(credential);
                form.dataset.done = "1";
                form.submit();
              }).catch(function (error) {
                if (status) { status.textContent = "The passkey was not used (" + error.name + "). Try again."; }
              });
            });
          });
        })();
        """
}
