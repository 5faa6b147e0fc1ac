import type { Command } from 'commander';

/** Completion scripts generated from the program itself, so a new command or flag completes at once. */
export function completionScript(shell: 'bash' | 'zsh', program: Command): string {
  const commands = program.commands.map((c) => c.name());
  const cases = program.commands
    .map((c) => {
      const flags = c.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter(Boolean));
      return `    ${c.name()}) opts="${[...flags, '--help'].join(' ')}" ;;`;
    })
    .join('\n');
  const bash = `# pks bash completion
_pks() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.join(' ')} help --help --version" -- "$cur") )
    return
  fi
  case "$cmd" in
${cases}
    *) opts="" ;;
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -F _pks pks
`;
  if (shell === 'bash') return bash;
  // zsh runs the bash function through bashcompinit: one source of truth for both shells.
  return `#compdef pks
autoload -U +X bashcompinit && bashcompinit
${bash}`;
}
