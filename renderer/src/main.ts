import { mount } from 'svelte';
import { z } from 'zod';
import App from './App.svelte';
import './app.css';

// zod probes `new Function` to speed up parsing; the page's CSP forbids eval, so skip the probe.
z.config({ jitless: true });

mount(App, { target: document.getElementById('app')! });
