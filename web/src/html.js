// The view layer: preact with htm tagged templates (no JSX build step).
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
