// Passkeys, as progressive enhancement: forms marked data-passkey stay hidden until this script
// finds a browser that supports passkeys. On submit it asks the server for the options (with the
// form's antiforgery token), lets the browser create (data-passkey="create") or use
// (data-passkey="get") a passkey, puts the browser's answer into the form's
// data-passkey-credential field, and sends the form as usual. The server checks everything.
(() => {
  'use strict';

  const supported = typeof window.PublicKeyCredential === 'function'
    && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function'
    && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
  if (!supported) {
    return;
  }

  const ceremonies = {
    create: (options) => navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) }),
    get: (options) => navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) }),
  };

  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const ceremony = ceremonies[form.dataset.passkey];
    const field = form.querySelector('input[data-passkey-credential]');
    const status = form.querySelector('[data-passkey-status]');
    const token = form.querySelector('input[name="__RequestVerificationToken"]');
    if (!ceremony || !field || !token || !form.dataset.passkeyOptions) {
      continue;
    }

    let busy = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (busy) {
        return;
      }
      busy = true;
      if (status) {
        status.textContent = '';
      }
      try {
        const response = await fetch(form.dataset.passkeyOptions, {
          method: 'POST',
          credentials: 'same-origin',
          headers: { RequestVerificationToken: token.value },
        });
        if (!response.ok) {
          throw new Error('The server did not give passkey options (' + response.status + ').');
        }
        const credential = await ceremony(await response.json());
        if (!credential) {
          throw new Error('No passkey was chosen.');
        }
        field.value = JSON.stringify(credential);
        // submit() sends the form without firing this handler again.
        form.submit();
      } catch (error) {
        busy = false;
        if (status) {
          // The words come from the page, in the reader's language.
          status.textContent = error && error.name === 'NotAllowedError'
            ? status.dataset.cancelled
            : status.dataset.failed;
        }
      }
    });
    form.hidden = false;
  }
})();
