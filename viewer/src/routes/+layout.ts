// A static site: every page is prerendered, and runs are chosen by query parameters at run time.
export const prerender = true;
export const trailingSlash = 'always';
