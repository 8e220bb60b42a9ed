# Bash completion for esgnode: commands, each command's options (those of
# node/main.c's getopt tables: integration.cli_help checks that they are
# the same), the values of --log-level, directories after --datadir and
# file names after the other options.
#
# Use: `source scripts/completion/esgnode.bash` (from ~/.bashrc), or copy
# it to /usr/share/bash-completion/completions/esgnode.

# The commands, as typed ("key new").
_esgnode_commands=("key new" "genesis new" "init" "run" "verify-chain")

# Prints the options of command $1 that take a value, then (after a line
# break) those that do not.
_esgnode_options() {
    case $1 in
    "key new") printf '%s\n%s\n' "-o --out" "--help" ;;
    "genesis new")
        printf '%s\n%s\n' "--chain-id --member --validator --accredit --country --lei \
--population --time -o --out" "--no-default-kpis --help" ;;
    init) printf '%s\n%s\n' "--genesis --datadir --key" "--help" ;;
    run)
        printf '%s\n%s\n' "--datadir --config --api --p2p --peer --observer --log-level \
--heartbeat-ms" "--help" ;;
    verify-chain) printf '%s\n%s\n' "--datadir --threads --quiet" "--help" ;;
    esac
}

_esgnode() {
    local cur=${COMP_WORDS[COMP_CWORD]-} prev=${COMP_WORDS[COMP_CWORD - 1]-}
    COMPREPLY=()
    # The command's words typed so far: neither options nor their values
    # (every option takes one but these flags).
    local -a words=()
    local i w skip=0 after_help=0
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if ((skip)); then
            skip=0
        elif [[ $w == -* ]]; then
            [[ $w == *=* || $w == --no-default-kpis || $w == --help || $w == -h ||
                $w == --version ]] || skip=1
        else
            words+=("$w")
        fi
    done
    # `esgnode help COMMAND` completes COMMAND.
    if [[ ${words[0]-} == help ]]; then
        words=("${words[@]:1}")
        after_help=1
    fi
    local typed="${words[*]}" cmd="" c
    for c in "${_esgnode_commands[@]}"; do
        [[ $typed == "$c" || $typed == "$c "* ]] && cmd=$c
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
            return 0
        fi
        local next="" prefix=${typed:+$typed }
        for c in "${_esgnode_commands[@]}"; do
            [[ $c == "$prefix"* ]] && { w=${c#"$prefix"}; next+=" ${w%% *}"; }
        done
        ((${#words[@]} == 0 && !after_help)) && next+=" help"
        COMPREPLY=($(compgen -W "$next" -- "$cur"))
        return 0
    fi
    local opts valued flags
    opts=$(_esgnode_options "$cmd")
    valued=${opts%%$'\n'*}
    flags=${opts#*$'\n'}
    if [[ $prev == -* && " $valued " == *" $prev "* ]]; then
        case $prev in
        --log-level) COMPREPLY=($(compgen -W "error warn info debug" -- "$cur")) ;;
        --datadir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur")) ;;
        *) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur")) ;;
        esac
        return 0
    fi
    COMPREPLY=($(compgen -W "$valued $flags" -- "$cur"))
    return 0
}

complete -F _esgnode esgnode
