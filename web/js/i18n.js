// i18n.js — the language of the pages. Strings live in web/i18n/<lang>.js, one file per
// language; t(key, vars) looks one up (falling back to English, then to the key itself).
import en from '../i18n/en.js';
import th from '../i18n/th.js';

const languages = { en, th };
let current = 'en';
const listeners = [];

export function t(key, vars = {}) {
  const s = languages[current][key] ?? en[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

export function roleName(role) {
  return t('role.' + role);
}

export function language() {
  return current;
}

/* The language from ?lang=, then the one chosen before, then the browser's. */
export function initialLanguage() {
  const asked = new URLSearchParams(location.search).get('lang');
  let stored = null;
  try {
    stored = localStorage.getItem('testimony.lang');
  } catch (e) { /* storage may be disabled */ }
  const browser = (navigator.language || 'en').slice(0, 2);
  return [asked, stored, browser].find((l) => l && l in languages) || 'en';
}

/* Applies the language to every [data-i18n] (text) and [data-i18n-label] (aria-label). */
export function setLanguage(lang) {
  if (!(lang in languages))
    return;
  current = lang;
  document.documentElement.lang = lang;
  try {
    localStorage.setItem('testimony.lang', lang);
  } catch (e) { /* ignore */ }
  for (const el of document.querySelectorAll('[data-i18n]'))
    el.textContent = t(el.dataset.i18n);
  for (const el of document.querySelectorAll('[data-i18n-label]'))
    el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const fn of listeners)
    fn(lang);
}

/* FN runs after every change of language, to redraw what was built from strings. */
export function onLanguage(fn) {
  listeners.push(fn);
}
