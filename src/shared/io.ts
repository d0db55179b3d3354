// Where a command writes (the CLI and the provider process); tests pass buffers, main passes the process streams.
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * An error message fit for a terminal whatever the input held: at most `maxLines` lines of at
 * most `maxLine` characters each, so a 100 KB value quoted back by a validator stays a line.
 */
export function boundedMessage(text: string, maxLine = 300, maxLines = 40): string {
  const lines = text.split('\n');
  const shown = lines
    .slice(0, maxLines)
    .map((line) => (line.length > maxLine ? `${line.slice(0, maxLine - 3)}...` : line));
  if (lines.length > maxLines) shown.push(`... (${lines.length - maxLines} more lines)`);
  return shown.join('\n');
}
