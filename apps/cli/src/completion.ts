import type { Command } from 'commander';

/** The description of every `<name>` argument that is a cluster: those arguments complete cluster names. */
export const CLUSTER_NAME_ARG = 'cluster name';

/** Completion scripts generated from the program itself, so a new command or flag completes at once. */
export function completionScript(shell: 'bash' | 'zsh', program: Command): string {
  const commands = program.commands.map((c) => c.name());
  const cases = program.commands
    .map((c) => {
      const flags = c.options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short].filter(Boolean));
      return `    ${c.name()}) opts="${[...flags, '--help'].join(' ')}" ;;`;
    })
    .join('\n');
  const takesCluster = program.commands
    .filter((c) => c.registeredArguments[0]?.description === CLUSTER_NAME_ARG)
    .map((c) => c.name());
  // Cluster names come from the API (`pks clusters --json`, the same binary the user typed), only when
  // creds.yml exists: without a login the call could only fail, and a completion must stay quiet and quick.
  // The JSON is printed with four-space indents, so a cluster's own "name" is the only key at depth two.
  const bash = `# pks bash completion
_pks_clusters() {
  [ -f "\${PKS_HOME:-$HOME/.pks}/creds.yml" ] || return 0
  "\${COMP_WORDS[0]}" clusters --json 2>/dev/null </dev/null |
    sed -n 's/^        "name": "\\([^"]*\\)",\\{0,1\\}$/\\1/p'
}
_pks() {
  local cur cmd opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  cmd="\${COMP_WORDS[1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.join(' ')} help --help --version" -- "$cur") )
    return
  fi
  if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then
    case "$cmd" in
      ${takesCluster.join('|')})
        COMPREPLY=( $(compgen -W "$(_pks_clusters)" -- "$cur") )
        return ;;
    esac
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
