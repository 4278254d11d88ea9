// Show-password buttons, as progressive enhancement: the pages work without this script, and
// their buttons stay hidden until it runs. A button (data-password-toggle) names the fields it
// reveals in aria-controls; aria-pressed says whether they are shown, so the button's name stays
// "Show password" and screen readers announce "pressed" or "not pressed".
(() => {
  'use strict';

  for (const button of document.querySelectorAll('button[data-password-toggle]')) {
    const fields = (button.getAttribute('aria-controls') || '')
      .split(/\s+/)
      .map((id) => document.getElementById(id))
      .filter((field) => field instanceof HTMLInputElement);
    if (fields.length === 0) {
      continue;
    }

    const show = (shown) => {
      for (const field of fields) {
        field.type = shown ? 'text' : 'password';
      }
      button.setAttribute('aria-pressed', shown ? 'true' : 'false');
    };

    button.addEventListener('click', () => show(button.getAttribute('aria-pressed') !== 'true'));
    // Hidden again before the form is sent: browsers keep what text fields submitted (autofill
    // history), never what password fields did.
    button.form?.addEventListener('submit', () => show(false));
    button.hidden = false;
  }
})();
