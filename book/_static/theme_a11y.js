// Accessible names for three of the theme's own controls (pydata-sphinx-theme), which axe-core
// reports as serious on every page (tests/test_lab.py runs axe on the whole lab page):
// - the search buttons show "Search Ctrl+K" but are named "Search" (label-content-name-mismatch):
//   their name becomes their visible text;
// - the colour-mode button is named "Color mode" while its icons carry the titles "Light",
//   "Dark" and "System Settings": the icons are hidden from assistive technology, the button's
//   tooltip already names it;
// - the sidebar's section toggles are <summary> elements with only an icon (summary-name).
function hideIconTitles(button) {
  for (const icon of button.querySelectorAll('.theme-switch')) {
    if (icon.getAttribute('aria-hidden') !== 'true') icon.setAttribute('aria-hidden', 'true');
    if (icon.hasAttribute('title')) icon.removeAttribute('title');
    for (const title of icon.querySelectorAll('title')) title.remove();
  }
}

function nameTheThemesControls() {
  for (const button of document.querySelectorAll('.search-button__button')) {
    if (button.textContent.trim()) button.removeAttribute('aria-label');
  }
  for (const button of document.querySelectorAll('.theme-switch-button')) {
    hideIconTitles(button);
    // Font Awesome swaps each <i> for an <svg> (its title becoming a <title>), maybe later.
    new MutationObserver(() => hideIconTitles(button)).observe(button, {childList: true, subtree: true});
  }
  for (const summary of document.querySelectorAll('summary')) {
    if (!summary.textContent.trim() && !summary.hasAttribute('aria-label')) {
      summary.setAttribute('aria-label', 'Show or hide the pages of this section');
    }
  }
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', nameTheThemesControls);
} else {
  nameTheThemesControls();
}
