# Bash completion for esgwallet: the command words, each command's options
# and, after an option whose synopsis lists its values (--kind
# coupon|redemption), those values; file names elsewhere. The commands and
# options are read at run time from the binary being completed,
# `esgwallet --list-commands` (wallet/cli.h), so they cannot drift from
# the command tables.
#
# Use: `source scripts/completion/esgwallet.bash` (from ~/.bashrc), or
# copy it to /usr/share/bash-completion/completions/esgwallet.

# Prints the --list-commands table of the esgwallet at $1, read once per
# binary and shell.
_esgwallet_table() {
    if [[ ${_esgwallet_table_of-} != "$1" ]]; then
        _esgwallet_table_text=$("$1" --list-commands 2>/dev/null) || return 1
        _esgwallet_table_of=$1
    fi
    printf '%s\n' "$_esgwallet_table_text"
}

# Sets COMPREPLY to the words of $1 (once each) that start with $2.
_esgwallet_reply() {
    local w seen=" "
    COMPREPLY=()
    for w in $1; do
        [[ $w == "$2"* && $seen != *" $w "* ]] || continue
        COMPREPLY+=("$w")
        seen+="$w "
    done
}

_esgwallet() {
    local cur prev cword
    local -a cwords
    if declare -F _get_comp_words_by_ref >/dev/null; then
        # bash-completion: keep "http://h:8600" and "A:B" one word each.
        _get_comp_words_by_ref -n =: -w cwords -i cword cur prev
    else
        # Without it, split the line at white space only: readline's words
        # also break at ':' and '='.
        if [[ -n ${COMP_LINE-} ]]; then
            local line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
            read -ra cwords <<<"$line"
            [[ $line == *[[:space:]] || ${#cwords[@]} -eq 0 ]] && cwords+=("")
            cword=$((${#cwords[@]} - 1))
        else
            cwords=("${COMP_WORDS[@]}")
            cword=$COMP_CWORD
        fi
        cur=${cwords[cword]-}
        prev=${cwords[cword - 1]-}
    fi
    COMPREPLY=()
    local bin=${cwords[0]}
    bin=${bin/#\~/$HOME}
    [[ $bin == */* ]] || bin=$(type -P "$bin") || return 0
    local table
    table=$(_esgwallet_table "$bin") || return 0

    # Fields are tab-separated, some empty: read them split at a character
    # that is not white space (read collapses runs of tabs).
    local -a paths=() valued=() flags=() synopses=()
    local gvalued="" gflags="" p v f s
    while IFS=$'\x1f' read -r p v f s; do
        if [[ -z $p ]]; then
            gvalued=$v gflags=$f
        else
            paths+=("$p") valued+=("$v") flags+=("$f") synopses+=("$s")
        fi
    done <<<"${table//$'\t'/$'\x1f'}"

    # The command's words typed so far: the words that are neither options
    # nor an option's value.
    local all_valued=" $gvalued ${valued[*]} " w skip=0 i
    local -a words=()
    for ((i = 1; i < cword; i++)); do
        w=${cwords[i]}
        if ((skip)); then
            skip=0
        elif [[ $w == -* ]]; then
            [[ $w != *=* && $all_valued == *" $w "* ]] && skip=1
        else
            words+=("$w")
        fi
    done
    local typed="${words[*]}" cmd=-1
    for i in "${!paths[@]}"; do
        p=${paths[i]}
        if [[ $typed == "$p" || $typed == "$p "* ]] &&
            ((cmd < 0 || ${#p} > ${#paths[cmd]})); then
            cmd=$i
        fi
    done

    if ((cmd < 0)); then
        if [[ $cur == -* ]]; then
            _esgwallet_reply "$gvalued $gflags" "$cur"
            return 0
        fi
        local next="" prefix=${typed:+$typed }
        for p in "${paths[@]}"; do
            [[ $p == "$prefix"* ]] || continue
            w=${p#"$prefix"}
            next+=" ${w%% *}"
        done
        _esgwallet_reply "$next" "$cur"
        return 0
    fi

    # An option's value: the alternatives its synopsis lists, else files.
    if [[ $prev == -* && " ${valued[cmd]} $gvalued " == *" $prev "* ]]; then
        local -a syn
        read -ra syn <<<"${synopses[cmd]}"
        for ((i = 0; i + 1 < ${#syn[@]}; i++)); do
            [[ ${syn[i]#[} == "$prev" ]] || continue
            w=${syn[i + 1]%]}
            if [[ $w == *'|'* && $w =~ ^[a-z|-]+$ ]]; then
                _esgwallet_reply "${w//|/ }" "$cur"
                return 0
            fi
        done
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
    fi
    if [[ $cur == -* ]]; then
        _esgwallet_reply "${valued[cmd]} ${flags[cmd]} $gvalued $gflags" "$cur"
        return 0
    fi
    # Positional arguments: files (tx files, ids are typed).
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
    return 0
}

complete -F _esgwallet esgwallet
