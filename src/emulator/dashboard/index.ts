/** The emulator's web dashboard (see dashboard.ts). */
export { makeDashboard, type Dashboard } from './dashboard.js';
export type { ChainTier, ChainView, NotificationView } from './chain.js';
export { decodeTaskBody, type BodyFormat, type BodyView } from './decode-body.js';
