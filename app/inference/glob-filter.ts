/**
 * A file-name filter from a shell-style pattern: `*` and `?` within one path segment, `**` across
 * segments, `{a,b}` alternatives, `[abc]` sets; case-insensitive. A pattern without `/` is matched
 * against the file name only, otherwise against the path relative to its input folder.
 */
export function globFilter(pattern: string): (relativePath: string) => boolean {
  const regex = new RegExp(`^${toRegex(pattern)}$`, 'i');
  const byName = !pattern.includes('/');
  return (relativePath) => {
    const normalised = relativePath.split(/[\\/]/).join('/');
    return regex.test(byName ? normalised.slice(normalised.lastIndexOf('/') + 1) : normalised);
  };
}

function toRegex(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '*' && pattern[i + 1] === '*') {
      out += pattern[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += pattern[i + 2] === '/' ? 2 : 1;
    } else if (char === '*') out += '[^/]*';
    else if (char === '?') out += '[^/]';
    else if (char === '{') {
      const end = pattern.indexOf('}', i);
      if (end < 0) out += '\\{';
      else {
        out += `(?:${pattern.slice(i + 1, end).split(',').map(toRegex).join('|')})`;
        i = end;
      }
    } else if (char === '[') {
      const end = pattern.indexOf(']', i);
      if (end < 0) out += '\\[';
      else {
        out += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = end;
      }
    } else out += char.replace(/[.+^$()|\\]/g, '\\$&');
  }
  return out;
}
