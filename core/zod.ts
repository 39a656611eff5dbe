/**
 * zod for every schema of the project: its light build (`zod/mini`, functions instead of methods),
 * which the viewer downloads and compiles before its first paint in a quarter of the classic API's
 * bytes, with English messages (the light build carries none of its own).
 */
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';

z.config(en());

export { z };
