# bash completion for selfheal: commands, their options, the names of the
# running daemon's policies (asked with `selfheal _names`; none when it is not running),
# and the installed applications' ids for watch-app (asked with `selfheal apps --all`).
# Installed by install.sh into ~/.local/share/bash-completion/completions/selfheal.

_selfheal_names() {
  selfheal _names 2>/dev/null
}

_selfheal_apps() {
  selfheal apps --all 2>/dev/null | cut -f1
}

_selfheal() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi
  local commands="status start stop restart cooldown zombies events policy watch-app apps import daemon help"

  if [[ $cword -eq 1 ]]; then
    if [[ $cur == -* ]]; then
      mapfile -t COMPREPLY < <(compgen -W "--help --version" -- "$cur")
    else
      mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
    fi
    return
  fi

  local command=${words[1]}
  case $prev in
    --config | --output)
      mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      return
      ;;
    --end-parent | --limit | -n | --since | --name)
      return
      ;;
  esac

  case $command in
    help)
      [[ $cword -eq 2 ]] && mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
      ;;
    status | start | stop | restart)
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "--json --help" -- "$cur")
      elif [[ $cword -eq 2 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_selfheal_names)" -- "$cur")
      fi
      ;;
    cooldown)
      if [[ $cword -eq 2 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "list reset --json" -- "$cur")
      elif [[ $cword -eq 3 && ${words[2]} == reset ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_selfheal_names)" -- "$cur")
      fi
      ;;
    zombies)
      mapfile -t COMPREPLY < <(compgen -W "--clean --end-parent --json --help" -- "$cur")
      ;;
    events)
      mapfile -t COMPREPLY < <(compgen -W "--follow --limit --since --json --help" -- "$cur")
      ;;
    policy)
      if [[ $cword -eq 2 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "get set reset rm" -- "$cur")
      elif [[ $cword -eq 3 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_selfheal_names)" -- "$cur")
      elif [[ ${words[2]} == set && $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "--replace --json" -- "$cur")
      fi
      ;;
    watch-app)
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "--name --json --help" -- "$cur")
      elif [[ $cword -eq 2 ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_selfheal_apps)" -- "$cur")
      fi
      ;;
    apps)
      mapfile -t COMPREPLY < <(compgen -W "--all --json --help" -- "$cur")
      ;;
    import)
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "--output --force --help" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -f -- "$cur")
      fi
      ;;
    daemon)
      mapfile -t COMPREPLY < <(compgen -W "--config --no-bus --no-keeper --no-sentinel --help" -- "$cur")
      ;;
  esac
}

complete -F _selfheal selfheal
