/**
 * One word for a POSIX shell: single-quoted, with embedded quotes closed and escaped. Used where a
 * shell reads what protocol writes (GIT_SSH_COMMAND, cloud-init's bootstrap script, crontab lines);
 * protocol itself never runs a shell.
 */
export function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
