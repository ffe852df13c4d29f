/**
 * What citty imports from consola ("consola" and "consola/utils"), for the compiled binary:
 * scripts/build.ts points citty's two imports here. The full consola probes process.stdout and
 * loads node:tty when it loads, about 15 ms of every start-up; citty only uses it in showUsage and
 * runMain (which protocol does not call) and for three styles in renderUsage.
 */
import { createConsola } from "consola/core";
import { renderLogLine } from "./log.ts";
import { styles } from "./terminal.ts";

export const colors = { bold: styles.bold, gray: styles.gray, underline: styles.underline };

export default createConsola({ reporters: [{ log: (entry) => console.error(renderLogLine(entry)) }] });
