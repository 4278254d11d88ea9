// Times in the reader's own time zone, in the page's language, as progressive enhancement: every page writes
// its times in UTC (readable without script) inside <time datetime="..." data-local>; this rewrites
// them with the browser's zone and keeps the UTC text as the title.
(() => {
  'use strict';

  const format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, { dateStyle: 'medium', timeStyle: 'short' });
  for (const element of document.querySelectorAll('time[datetime][data-local]')) {
    const instant = new Date(element.getAttribute('datetime'));
    if (Number.isNaN(instant.getTime())) {
      continue;
    }
    element.title = element.textContent;
    element.textContent = format.format(instant);
  }
})();
