// shell.js: the one script of every member page. It signs the member in
// (or sends them to sign in), puts back this tab's player, and mounts the
// page; router.js then moves between pages under the same player.
import { start } from './router.js';
import { restore } from './player.js';

await start(restore);
