// Gatehouse's passkey forms (the only script its pages run; first-party, no dependencies).
// A form marked data-passkey="create" or "get" carries the options of a ceremony the server
// keeps (data-options, JSON with binary values in base64url). Submitting it asks the browser
// for a passkey, puts the browser's answer (JSON) into the form's `credential` field, and sends
// the form; the server checks the answer. data-autofill also offers the user's passkeys in the
// username field's autofill (conditional mediation) while the page is open.
(() => {
  "use strict";
  const supported = typeof window.PublicKeyCredential === "function" && !!navigator.credentials;

  const fromB64url = (s) => {
    const b64 = s.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (s.length % 4)) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  };
  const toB64url = (buf) => {
    let s = "";
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  };
  const ids = (list) => (list || []).map((c) => ({ ...c, id: fromB64url(c.id) }));

  const creationOptions = (o) => {
    const p = o.publicKey;
    return { ...p, challenge: fromB64url(p.challenge), user: { ...p.user, id: fromB64url(p.user.id) },
      excludeCredentials: ids(p.excludeCredentials) };
  };
  const requestOptions = (o) => {
    const p = o.publicKey;
    return { ...p, challenge: fromB64url(p.challenge), allowCredentials: ids(p.allowCredentials) };
  };

  // The answer as JSON (WebAuthn Level 3 toJSON, or the same shape by hand).
  const answer = (cred) => {
    if (typeof cred.toJSON === "function") {
      try { return JSON.stringify(cred.toJSON()); } catch (_) { /* by hand below */ }
    }
    const r = cred.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (typeof r.getTransports === "function") response.transports = r.getTransports();
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify({ id: cred.id, rawId: toB64url(cred.rawId), type: cred.type, response,
      clientExtensionResults: cred.getClientExtensionResults() });
  };

  const send = (form, cred) => {
    form.elements.credential.value = answer(cred);
    form.submit();
  };
  const fail = (form, err) => {
    const box = form.querySelector("[data-passkey-error]");
    if (err && err.name === "AbortError") return;
    if (box) {
      box.textContent = box.dataset.text || String(err);
      box.hidden = false;
    }
  };

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    if (!supported) continue;
    form.hidden = false;
    let options;
    try { options = JSON.parse(form.dataset.options); } catch (_) { continue; }
    let autofill = null;
    if (form.dataset.passkey === "get" && "autofill" in form.dataset
        && typeof PublicKeyCredential.isConditionalMediationAvailable === "function") {
      PublicKeyCredential.isConditionalMediationAvailable().then((ok) => {
        if (!ok) return;
        autofill = new AbortController();
        navigator.credentials.get({ mediation: "conditional", publicKey: requestOptions(options), signal: autofill.signal })
          // Nobody asked yet: an autofill request that ends without a passkey says nothing.
          .then((cred) => cred && send(form, cred), () => {});
      });
    }
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (autofill) { autofill.abort(); autofill = null; }
      const asked = form.dataset.passkey === "create"
        ? navigator.credentials.create({ publicKey: creationOptions(options) })
        : navigator.credentials.get({ publicKey: requestOptions(options) });
      asked.then((cred) => (cred ? send(form, cred) : fail(form, null)), (err) => fail(form, err));
    });
  }
})();
