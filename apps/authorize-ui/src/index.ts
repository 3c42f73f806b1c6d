// authorize-ui: the browser side of the flow (authorize, login, app picker, consent, decision).
export { type AuthorizeUiDeps, buildApp } from './app.js';
export { AuthorizeUiConfig, DEV_SESSION_SECRET, loadAuthorizeUiConfig } from './config.js';
