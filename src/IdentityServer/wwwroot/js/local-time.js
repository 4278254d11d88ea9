// Times in the reader's own time zone and the page's language, as progressive enhancement: every page writes
// its times in UTC (readable without script) inside <time datetime="..." data-local>; this rewrites
// them with the browser's zone and keeps the UTC text as the title.
(() => {
  'use strict';

  // The page's language, in the browser's own variant of it when it has one (en-GB writes 24-hour times).
  const page = document.documentElement.lang;
  const locale = (navigator.languages || []).find((l) => l.split('-')[0].toLowerCase() === page) || page || undefined;
  const format = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short' });
  for (const element of document.querySelectorAll('time[datetime][data-local]')) {
    const instant = new Date(element.getAttribute('datetime'));
    if (Number.isNaN(instant.getTime())) {
      continue;
    }
    element.title = element.textContent;
    element.textContent = format.format(instant);
  }
})();
