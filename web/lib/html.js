/**
 * `html`: Preact's `h` through htm, so components are written as tagged templates
 * (html`<p class="x">${text}</p>`) and run as they are, without a template compiler. htm parses each
 * template once and caches it; no code is evaluated from strings, so the page's strict
 * Content-Security-Policy holds.
 */
import { h } from 'preact'
import htm from 'htm'

export const html = htm.bind(h)
